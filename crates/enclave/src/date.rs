//! Unix time → `YYYYMMDD` without a calendar crate (proleptic Gregorian, UTC).

/// `YYYYMMDD` of the UTC day containing `unix_seconds` (Howard Hinnant's civil-from-days).
pub fn yyyymmdd(unix_seconds: i64) -> u32 {
    let z = unix_seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    u32::try_from(y * 10_000 + m * 100 + d).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::yyyymmdd;

    #[test]
    fn known_dates() {
        assert_eq!(yyyymmdd(0), 19700101);
        assert_eq!(yyyymmdd(951_782_400), 20000229); // leap day
        assert_eq!(yyyymmdd(1_700_000_000), 20231114);
        assert_eq!(yyyymmdd(1_795_651_199), 20261125);
        assert_eq!(yyyymmdd(1_795_651_200), 20261126);
        assert_eq!(yyyymmdd(-1), 19691231);
    }
}
