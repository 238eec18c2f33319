//! Document OCR with the Debian `tesseract` CLI (single-threaded), and field parsing/validation
//! for the VEID ID-card layout (`LABEL: VALUE` lines).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use crate::error::ScoringError;
use crate::imgops::Gray;

/// Field order used by the feature vector.
pub const FIELDS: [&str; 5] = [
    "name",
    "date_of_birth",
    "document_number",
    "expiry_date",
    "nationality",
];

/// ISO 3166-1 alpha-3 codes accepted as nationality (plus ICAO's `UTO` specimen code).
const NATIONALITIES: [&str; 48] = [
    "ARG", "AUS", "AUT", "BEL", "BRA", "CAN", "CHE", "CHL", "CHN", "COL", "CZE", "DEU", "DNK",
    "EGY", "ESP", "EST", "FIN", "FRA", "GBR", "GRC", "HUN", "IDN", "IND", "IRL", "ISL", "ISR",
    "ITA", "JPN", "KEN", "KOR", "MEX", "NGA", "NLD", "NOR", "NZL", "PER", "POL", "PRT", "ROU",
    "SGP", "SWE", "THA", "TUR", "UKR", "USA", "VNM", "ZAF", "UTO",
];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OcrField {
    pub value: String,
    /// Mean Tesseract word confidence of the value, in [0, 1].
    pub confidence: f32,
    pub valid: bool,
}

#[derive(Clone, Debug, Default)]
pub struct OcrResult {
    pub fields: BTreeMap<&'static str, OcrField>,
    /// true when the printed expiry date is before the reference date.
    pub expired: bool,
}

/// Run Tesseract on the document (grey, upscaled so the long side is >= 1600 px).
pub fn run_tesseract(doc: &Gray) -> Result<String, ScoringError> {
    let long = doc.width.max(doc.height);
    let img = if long < 1600 {
        let f = 1600.0 / long as f32;
        doc.resize(
            (doc.width as f32 * f) as usize,
            (doc.height as f32 * f) as usize,
        )
    } else {
        doc.clone()
    };
    let png = img.to_png()?;
    let mut child = Command::new("tesseract")
        .args(["stdin", "stdout", "--psm", "6", "-l", "eng", "tsv"])
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ScoringError::Ocr(format!("cannot start tesseract: {e}")))?;
    {
        let stdin = child
            .stdin
            .as_mut()
            .ok_or_else(|| ScoringError::Ocr("no stdin".into()))?;
        stdin
            .write_all(&png)
            .map_err(|e| ScoringError::Ocr(e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| ScoringError::Ocr(e.to_string()))?;
    if !out.status.success() {
        return Err(ScoringError::Ocr(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Words of a TSV line group: (text, confidence 0..1).
type Line = Vec<(String, f32)>;

pub fn tsv_lines(tsv: &str) -> Vec<Line> {
    let mut lines: BTreeMap<(u32, u32, u32, u32), Line> = BTreeMap::new();
    for row in tsv.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let text = cols[11].trim();
        if text.is_empty() {
            continue;
        }
        let key = |i: usize| cols[i].parse::<u32>().unwrap_or(0);
        let conf = cols[10].parse::<f32>().unwrap_or(0.0).clamp(0.0, 100.0) / 100.0;
        lines
            .entry((key(1), key(2), key(3), key(4)))
            .or_default()
            .push((text.to_string(), conf));
    }
    lines.into_values().collect()
}

fn field_of(label: &str) -> Option<&'static str> {
    let l = label.to_ascii_uppercase();
    if l.contains("BIRTH") || l.starts_with("DOB") {
        Some("date_of_birth")
    } else if l.contains("EXPIR") {
        Some("expiry_date")
    } else if l.contains("NATIONAL") {
        Some("nationality")
    } else if l.contains("DOC") || l.contains("NUMBER") {
        Some("document_number")
    } else if l.contains("NAME") {
        Some("name")
    } else {
        None
    }
}

/// Parse `LABEL: VALUE` lines into fields and validate them against `reference_date` (YYYYMMDD).
pub fn parse_fields(lines: &[Line], reference_date: u32) -> OcrResult {
    let mut res = OcrResult::default();
    for line in lines {
        let Some(colon) = line
            .iter()
            .position(|(w, _)| w.ends_with(':') || w.contains(':'))
        else {
            continue;
        };
        let (label_words, rest) = line.split_at(colon + 1);
        let label: String = label_words
            .iter()
            .map(|(w, _)| w.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let Some(field) = field_of(&label) else {
            continue;
        };
        if res.fields.contains_key(field) {
            continue;
        }
        // Text after a colon glued to the label word ("NAME:JANE") belongs to the value.
        let mut words: Vec<(String, f32)> = Vec::new();
        if let Some((w, c)) = label_words.last() {
            if let Some(idx) = w.find(':') {
                let tail = &w[idx + 1..];
                if !tail.is_empty() {
                    words.push((tail.to_string(), *c));
                }
            }
        }
        words.extend(rest.iter().cloned());
        if words.is_empty() {
            continue;
        }
        let joined = words
            .iter()
            .map(|(w, _)| w.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let value = clean_value(
            field,
            &normalise(joined.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())),
        );
        let confidence = words.iter().map(|(_, c)| c).sum::<f32>() / words.len() as f32;
        let valid = validate(field, &value, reference_date);
        res.fields.insert(
            field,
            OcrField {
                value,
                confidence,
                valid,
            },
        );
    }
    if let Some(exp) = res
        .fields
        .get("expiry_date")
        .and_then(|f| parse_date(&f.value))
    {
        res.expired = exp < reference_date;
    }
    res
}

/// Field-specific OCR post-processing: the document number is two letters then seven digits,
/// so the usual confusions (O/0, I/1, S/5, B/8, Z/2, G/6) are resolved by position; dates and
/// nationality lose stray spaces/punctuation.
pub fn clean_value(field: &str, v: &str) -> String {
    match field {
        "document_number" => {
            let raw: Vec<char> = v.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            raw.iter()
                .enumerate()
                .map(|(i, &c)| {
                    if i < 2 {
                        match c {
                            '0' => 'O',
                            '1' => 'I',
                            '5' => 'S',
                            '8' => 'B',
                            '2' => 'Z',
                            '6' => 'G',
                            _ => c,
                        }
                    } else {
                        match c {
                            'O' | 'D' | 'Q' => '0',
                            'I' | 'L' | 'T' => '1',
                            'S' => '5',
                            'B' => '8',
                            'Z' => '2',
                            'G' => '6',
                            _ => c,
                        }
                    }
                })
                .collect()
        }
        "date_of_birth" | "expiry_date" => v
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '-')
            .map(|c| if c == 'O' { '0' } else { c })
            .collect(),
        "nationality" => v.chars().filter(char::is_ascii_alphabetic).collect(),
        _ => v
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string(),
    }
}

/// Trim, collapse whitespace, upper-case (the same normalisation as the chain's field hashes).
pub fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// `YYYY-MM-DD` -> YYYYMMDD if it is a real calendar date.
pub fn parse_date(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: u32 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1900..=2199).contains(&y) || d == 0 || d > dim {
        return None;
    }
    Some(y * 10000 + m * 100 + d)
}

/// ICAO 9303 check digit (weights 7, 3, 1) over digits and letters (A=10 .. Z=35, '<' = 0).
pub fn icao_check_digit(s: &str) -> Option<u32> {
    let mut sum = 0u32;
    for (i, ch) in s.chars().enumerate() {
        let v = match ch {
            '0'..='9' => ch as u32 - '0' as u32,
            'A'..='Z' => ch as u32 - 'A' as u32 + 10,
            '<' => 0,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Some(sum % 10)
}

pub fn validate(field: &str, value: &str, reference_date: u32) -> bool {
    match field {
        "name" => {
            value.len() >= 3
                && value
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == ' ' || c == '-' || c == '\'')
                && value.chars().filter(|c| c.is_ascii_uppercase()).count() >= 2
        }
        "date_of_birth" => match parse_date(value) {
            // age between 16 and 120 years at the reference date
            Some(d) => d + 16 * 10000 <= reference_date && d + 120 * 10000 >= reference_date,
            None => false,
        },
        "expiry_date" => parse_date(value).is_some(),
        "document_number" => {
            let b = value.as_bytes();
            b.len() == 9
                && b[..2].iter().all(u8::is_ascii_uppercase)
                && b[2..].iter().all(u8::is_ascii_digit)
                && value.get(..8).and_then(icao_check_digit) == Some(u32::from(b[8] - b'0'))
        }
        "nationality" => NATIONALITIES.contains(&value),
        _ => false,
    }
}

/// Similarity of two normalised strings: 1 - Levenshtein / max_len.
pub fn similarity(a: &str, b: &str) -> f32 {
    let a: Vec<char> = normalise(a).chars().collect();
    let b: Vec<char> = normalise(b).chars().collect();
    let m = a.len().max(b.len());
    if m == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    1.0 - prev[b.len()] as f32 / m as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_check_digit_matches_the_icao_9303_specimen() {
        // ICAO Doc 9303 specimen passport number L898902C3, check digit 6.
        assert_eq!(icao_check_digit("L898902C3"), Some(6));
        assert_eq!(icao_check_digit("L898902C<"), Some(3));
        assert_eq!(icao_check_digit("ab"), None);
    }

    #[test]
    fn document_number_is_valid_only_with_the_right_check_digit() {
        let body = "EA359124";
        let d = icao_check_digit(body).unwrap();
        assert!(validate("document_number", &format!("{body}{d}"), 20261126));
        assert!(!validate(
            "document_number",
            &format!("{body}{}", (d + 1) % 10),
            20261126
        ));
        assert!(!validate("document_number", "E13591240", 20261126));
    }

    #[test]
    fn dates_must_exist_and_birth_dates_must_give_a_plausible_age() {
        assert_eq!(parse_date("2024-02-29"), Some(20240229));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert!(validate("date_of_birth", "1990-05-01", 20261126));
        assert!(
            !validate("date_of_birth", "2015-05-01", 20261126),
            "11 years old"
        );
        assert!(
            !validate("date_of_birth", "1890-05-01", 20261126),
            "136 years old"
        );
    }

    #[test]
    fn ocr_confusions_in_document_numbers_are_resolved_by_position() {
        assert_eq!(clean_value("document_number", "0A35S124O"), "OA3551240");
        assert_eq!(clean_value("nationality", "D E U."), "DEU");
        assert_eq!(clean_value("name", ": JANE DOE"), "JANE DOE");
    }

    #[test]
    fn tesseract_tsv_lines_become_validated_fields() {
        let header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n";
        let mut tsv = String::from(header);
        let words = [
            (1, "NAME:", 96.0),
            (1, "JANE", 90.0),
            (1, "DOE", 80.0),
            (2, "EXPIRY:", 95.0),
            (2, "2020-01-31", 70.0),
            (3, "NATIONALITY:", 95.0),
            (3, "XXX", 60.0),
        ];
        for (i, (line, w, c)) in words.iter().enumerate() {
            tsv.push_str(&format!(
                "5\t1\t1\t1\t{line}\t{i}\t0\t0\t10\t10\t{c}\t{w}\n"
            ));
        }
        let res = parse_fields(&tsv_lines(&tsv), 20261126);
        let name = &res.fields["name"];
        assert_eq!(name.value, "JANE DOE");
        assert!((name.confidence - 0.85).abs() < 1e-6);
        assert!(name.valid);
        assert!(res.expired, "2020-01-31 is before the reference date");
        assert!(!res.fields["nationality"].valid);
        assert!(!res.fields.contains_key("document_number"));
    }

    #[test]
    fn string_similarity_is_one_minus_normalised_edit_distance() {
        assert_eq!(similarity("Jane  Doe", "JANE DOE"), 1.0);
        assert!((similarity("JANE DOE", "JANE DOT") - 0.875).abs() < 1e-6);
        assert!(similarity("JANE DOE", "OMAR SATO") < 0.3);
    }
}
