//! A protobuf nesting scan that runs before decoding, so a transaction built to exhaust
//! the stack or the CPU of a decoder (ASA-2024-0012) is refused for the price of one pass.

/// Returns the deepest nesting of length-delimited fields that parse as messages,
/// stopping early once `max` is exceeded. Bytes that do not parse as a message count
/// as a leaf, which is what they are to the decoder.
pub(crate) fn nesting_depth(bytes: &[u8], max: usize) -> usize {
    depth(bytes, 0, max)
}

fn depth(bytes: &[u8], level: usize, max: usize) -> usize {
    if level > max {
        return level;
    }
    let mut deepest = level;
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((key, after_key)) = varint(rest) else {
            return deepest;
        };
        let wire_type = key & 7;
        rest = after_key;
        match wire_type {
            0 => match varint(rest) {
                Some((_, r)) => rest = r,
                None => return deepest,
            },
            1 => match rest.get(8..) {
                Some(r) => rest = r,
                None => return deepest,
            },
            5 => match rest.get(4..) {
                Some(r) => rest = r,
                None => return deepest,
            },
            2 => {
                let Some((len, r)) = varint(rest) else {
                    return deepest;
                };
                let Ok(len) = usize::try_from(len) else {
                    return deepest;
                };
                let Some(field) = r.get(..len) else {
                    return deepest;
                };
                rest = &r[len..];
                if looks_like_message(field) {
                    deepest = deepest.max(depth(field, level + 1, max));
                    if deepest > max {
                        return deepest;
                    }
                }
            }
            _ => return deepest,
        }
    }
    deepest
}

/// A cheap test: does the whole slice parse as a sequence of well-formed fields?
fn looks_like_message(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let Some((key, r)) = varint(rest) else {
            return false;
        };
        if key >> 3 == 0 {
            return false;
        }
        rest = r;
        let next = match key & 7 {
            0 => varint(rest).map(|(_, r)| r),
            1 => rest.get(8..),
            5 => rest.get(4..),
            2 => {
                varint(rest).and_then(|(len, r)| usize::try_from(len).ok().and_then(|l| r.get(l..)))
            }
            _ => None,
        };
        match next {
            Some(r) => rest = r,
            None => return false,
        }
    }
    true
}

fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(inner: Vec<u8>) -> Vec<u8> {
        let mut out = vec![0x0a];
        let mut len = inner.len();
        loop {
            let b = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend(inner);
        out
    }

    #[test]
    fn deeply_nested_bytes_are_measured_past_the_limit() {
        let mut msg = vec![0x08, 0x01];
        for _ in 0..40 {
            msg = wrap(msg);
        }
        assert!(nesting_depth(&msg, 16) > 16);
    }

    #[test]
    fn flat_message_has_depth_zero_or_one() {
        assert!(nesting_depth(&[0x08, 0x96, 0x01], 16) <= 1);
    }
}
