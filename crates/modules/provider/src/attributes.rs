//! Attribute validation shared by provider, audit and offering: bounded count and
//! lengths, a key alphabet, unique keys; the stored list is sorted by key so two equal
//! sets always encode to the same bytes.

use ve_proto::virtengine::base::v1::Attribute;

/// Limits applied to an attribute list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_count: u32,
    pub max_key_len: u32,
    pub max_value_len: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_count: 32,
            max_key_len: 64,
            max_value_len: 128,
        }
    }
}

/// Checks one key: a letter first, then letters, digits, `_`, `-`, `.` or `/`.
pub fn validate_key(key: &str, max_len: u32) -> Result<(), String> {
    let len = u32::try_from(key.len()).unwrap_or(u32::MAX);
    if key.is_empty() || len > max_len {
        return Err(format!(
            "attribute key {key:?} must be 1..={max_len} characters"
        ));
    }
    let mut chars = key.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
    {
        return Err(format!(
            "attribute key {key:?} must start with a letter and use only letters, digits, _ - . /"
        ));
    }
    Ok(())
}

/// Checks a list and returns it sorted by key. Duplicate keys are refused.
pub fn validate(attrs: &[Attribute], limits: &Limits) -> Result<Vec<Attribute>, String> {
    let count = u32::try_from(attrs.len()).unwrap_or(u32::MAX);
    if count > limits.max_count {
        return Err(format!(
            "{count} attributes, at most {} allowed",
            limits.max_count
        ));
    }
    for a in attrs {
        validate_key(&a.key, limits.max_key_len)?;
        let vlen = u32::try_from(a.value.len()).unwrap_or(u32::MAX);
        if a.value.is_empty() || vlen > limits.max_value_len {
            return Err(format!(
                "value of attribute {:?} must be 1..={} bytes",
                a.key, limits.max_value_len
            ));
        }
        if a.value.chars().any(char::is_control) {
            return Err(format!(
                "value of attribute {:?} contains control characters",
                a.key
            ));
        }
    }
    let mut sorted = attrs.to_vec();
    sorted.sort_by(|x, y| x.key.cmp(&y.key));
    if let Some(w) = sorted.windows(2).find(|w| w[0].key == w[1].key) {
        return Err(format!("attribute key {:?} appears twice", w[0].key));
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(k: &str, v: &str) -> Attribute {
        Attribute {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn attributes_are_returned_sorted_and_duplicates_refused() {
        let l = Limits::default();
        let out = validate(
            &[attr("region", "eu"), attr("capabilities/gpu", "a100")],
            &l,
        )
        .unwrap();
        assert_eq!(out[0].key, "capabilities/gpu");
        assert!(validate(&[attr("a", "1"), attr("a", "2")], &l).is_err());
    }

    #[test]
    fn bad_keys_values_and_counts_are_refused() {
        let l = Limits::default();
        assert!(validate(&[attr("1abc", "x")], &l).is_err());
        assert!(validate(&[attr("a b", "x")], &l).is_err());
        assert!(validate(&[attr("ok", "")], &l).is_err());
        assert!(validate(&[attr("ok", "a\nb")], &l).is_err());
        assert!(validate(&[attr(&"k".repeat(65), "x")], &l).is_err());
        let many: Vec<_> = (0..33).map(|i| attr(&format!("k{i}"), "v")).collect();
        assert!(validate(&many, &l).is_err());
    }
}
