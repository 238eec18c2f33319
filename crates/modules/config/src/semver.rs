//! The one version syntax clients use: `MAJOR.MINOR.PATCH`, decimal, no pre-release tags.

use crate::ConfigError;

/// Parses `MAJOR.MINOR.PATCH` (each 1-9 decimal digits).
pub fn parse(v: &str) -> Result<(u32, u32, u32), ConfigError> {
    let bad = || ConfigError::InvalidVersion(v.chars().take(32).collect());
    let mut parts = v.split('.');
    let mut next = || -> Result<u32, ConfigError> {
        let p = parts.next().ok_or_else(bad)?;
        if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse::<u32>().map_err(|_| bad())
    };
    let out = (next()?, next()?, next()?);
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(out)
}

/// Whether `v` lies in `[min, max]` (`max` empty = no upper bound).
pub fn within(v: &str, min: &str, max: &str) -> Result<bool, ConfigError> {
    let v = parse(v)?;
    if v < parse(min)? {
        return Ok(false);
    }
    if !max.is_empty() && v > parse(max)? {
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_compares_numerically() {
        assert_eq!(parse("1.10.0").unwrap(), (1, 10, 0));
        assert!(within("1.10.0", "1.9.9", "").unwrap());
        assert!(!within("1.2.3", "1.10.0", "").unwrap());
        assert!(!within("2.0.1", "1.0.0", "2.0.0").unwrap());
        assert!(within("2.0.0", "1.0.0", "2.0.0").unwrap());
    }

    #[test]
    fn refuses_other_shapes() {
        for v in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "1.2.x",
            "v1.2.3",
            "1..3",
            "1.2.3-rc1",
            "+1.2.3",
        ] {
            assert!(parse(v).is_err(), "{v}");
        }
    }
}
