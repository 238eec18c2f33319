use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// An amount of one denomination. Amounts are unsigned 128-bit integers: no fractions,
/// no negatives, and every operation on them is checked.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Coin {
    pub denom: String,
    #[serde(with = "amount_string")]
    pub amount: u128,
}

/// Why a coin or amount is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoinError {
    #[error("invalid denom {0:?}: must be 3-128 characters, start with a letter, and use only letters, digits and / : . _ -")]
    InvalidDenom(String),
    #[error("invalid amount {0:?}: must be a non-negative integer that fits in 128 bits")]
    InvalidAmount(String),
    #[error("invalid coin {0:?}: expected an amount followed by a denom, like 1000uve")]
    InvalidCoin(String),
    #[error("amount overflow")]
    Overflow,
    #[error("insufficient funds: have {have}{denom}, need {need}{denom}")]
    Insufficient {
        denom: String,
        have: u128,
        need: u128,
    },
    #[error("duplicate denom {0:?} in coin list")]
    DuplicateDenom(String),
}

/// Cosmos SDK denom rule: `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
pub fn validate_denom(denom: &str) -> Result<(), CoinError> {
    let bytes = denom.as_bytes();
    let ok_len = (3..=128).contains(&bytes.len());
    let ok_first = bytes.first().is_some_and(|b| b.is_ascii_alphabetic());
    let ok_rest = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'_' | b'-'));
    if ok_len && ok_first && ok_rest {
        Ok(())
    } else {
        Err(CoinError::InvalidDenom(denom.to_string()))
    }
}

/// Parses a decimal amount string (as in Cosmos protobuf `Coin.amount`).
pub fn parse_amount(s: &str) -> Result<u128, CoinError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CoinError::InvalidAmount(s.to_string()));
    }
    s.parse::<u128>()
        .map_err(|_| CoinError::InvalidAmount(s.to_string()))
}

impl Coin {
    pub fn new(denom: impl Into<String>, amount: u128) -> Self {
        Self {
            denom: denom.into(),
            amount,
        }
    }

    /// Builds a coin from the wire strings, validating both.
    pub fn from_parts(denom: &str, amount: &str) -> Result<Self, CoinError> {
        validate_denom(denom)?;
        Ok(Self::new(denom, parse_amount(amount)?))
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.denom)
    }
}

impl FromStr for Coin {
    type Err = CoinError;
    /// Parses `1000uve`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| CoinError::InvalidCoin(s.to_string()))?;
        if split == 0 {
            return Err(CoinError::InvalidCoin(s.to_string()));
        }
        let (amount, denom) = s.split_at(split);
        Self::from_parts(denom, amount)
    }
}

/// A set of coins with distinct denoms, kept sorted by denom; zero amounts are dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Coins(BTreeMap<String, u128>);

impl Coins {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a set from a list, rejecting duplicate denoms and invalid denoms.
    pub fn from_list(list: impl IntoIterator<Item = Coin>) -> Result<Self, CoinError> {
        let mut out = BTreeMap::new();
        for c in list {
            validate_denom(&c.denom)?;
            if out.contains_key(&c.denom) {
                return Err(CoinError::DuplicateDenom(c.denom));
            }
            if c.amount > 0 {
                out.insert(c.denom, c.amount);
            }
        }
        Ok(Self(out))
    }

    pub fn amount_of(&self, denom: &str) -> u128 {
        self.0.get(denom).copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Coin> + '_ {
        self.0.iter().map(|(d, a)| Coin::new(d.clone(), *a))
    }

    pub fn checked_add(&mut self, coin: &Coin) -> Result<(), CoinError> {
        if coin.amount == 0 {
            return Ok(());
        }
        let entry = self.0.entry(coin.denom.clone()).or_insert(0);
        *entry = entry.checked_add(coin.amount).ok_or(CoinError::Overflow)?;
        Ok(())
    }

    pub fn checked_sub(&mut self, coin: &Coin) -> Result<(), CoinError> {
        let have = self.amount_of(&coin.denom);
        let left = have
            .checked_sub(coin.amount)
            .ok_or_else(|| CoinError::Insufficient {
                denom: coin.denom.clone(),
                have,
                need: coin.amount,
            })?;
        if left == 0 {
            self.0.remove(&coin.denom);
        } else {
            self.0.insert(coin.denom.clone(), left);
        }
        Ok(())
    }
}

impl fmt::Display for Coins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.iter().map(|c| c.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Coins {
    type Err = CoinError;
    /// Parses `100uve,5uatom`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Ok(Self::new());
        }
        Self::from_list(
            s.split(',')
                .map(str::parse)
                .collect::<Result<Vec<Coin>, _>>()?,
        )
    }
}

mod amount_string {
    pub fn serialize<S: serde::Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        super::parse_amount(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_amount_then_denom() {
        assert_eq!("1000uve".parse::<Coin>().unwrap(), Coin::new("uve", 1000));
        assert!("uve".parse::<Coin>().is_err());
        assert!("10".parse::<Coin>().is_err());
        assert!("-5uve".parse::<Coin>().is_err());
        assert!("5u".parse::<Coin>().is_err());
        assert!("340282366920938463463374607431768211456uve"
            .parse::<Coin>()
            .is_err());
    }

    #[test]
    fn subtracting_more_than_held_is_insufficient_funds() {
        let mut c: Coins = "10uve".parse().unwrap();
        let err = c.checked_sub(&Coin::new("uve", 11)).unwrap_err();
        assert!(matches!(
            err,
            CoinError::Insufficient {
                have: 10,
                need: 11,
                ..
            }
        ));
        assert_eq!(c.amount_of("uve"), 10);
    }

    proptest! {
        #[test]
        fn add_then_sub_is_identity(a in 0u128..u64::MAX as u128, b in 0u128..u64::MAX as u128) {
            let mut c = Coins::new();
            c.checked_add(&Coin::new("uve", a)).unwrap();
            c.checked_add(&Coin::new("uve", b)).unwrap();
            c.checked_sub(&Coin::new("uve", b)).unwrap();
            prop_assert_eq!(c.amount_of("uve"), a);
        }
    }
}
