//! The chain's minimum gas price: a consensus parameter, enforced in CheckTx and in
//! FinalizeBlock alike, so a proposer cannot fill blocks with fee-less transactions.

use prost::Message;
use std::fmt;
use std::str::FromStr;
use ve_module::Store;
use ve_types::{AppError, Coins, BASE_DENOM};

/// Fixed-point scale of the price: millionths of a base unit per gas.
const SCALE: u128 = 1_000_000;
const PARAMS_KEY: &[u8] = b"fee/min_gas_price";

/// Minimum price per unit of gas, e.g. `0.025uve`, held as an integer number of
/// millionths so it never touches floating point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinGasPrice {
    pub micro_per_gas: u128,
    pub denom: String,
}

impl Default for MinGasPrice {
    fn default() -> Self {
        Self {
            micro_per_gas: 25_000,
            denom: BASE_DENOM.to_string(),
        }
    }
}

impl MinGasPrice {
    /// The smallest fee (in `denom`) that pays for `gas` at this price, rounded up.
    pub fn required_fee(&self, gas: u64) -> u128 {
        let scaled = u128::from(gas).saturating_mul(self.micro_per_gas);
        scaled.div_ceil(SCALE)
    }

    /// Checks that `fee` pays for `gas`; the error names the fee that would.
    pub fn check(&self, fee: &Coins, gas: u64) -> Result<(), AppError> {
        let need = self.required_fee(gas);
        let have = fee.amount_of(&self.denom);
        if have < need {
            return Err(AppError::new(
                ve_module::SDK_CODESPACE,
                13,
                format!(
                    "insufficient fee; got: {have}{d} required: {need}{d} (gas {gas} at {self}): pass --fees {need}{d} or higher",
                    d = self.denom
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn load(store: &mut impl Store) -> Result<Self, AppError> {
        match store.get(PARAMS_KEY)? {
            None => Ok(Self::default()),
            Some(bytes) => {
                let stored = ve_proto::cosmos::base::v1beta1::Coin::decode(bytes.as_slice())
                    .map_err(|e| AppError::new("fee", 1, format!("corrupt min gas price: {e}")))?;
                Ok(Self {
                    micro_per_gas: stored
                        .amount
                        .parse()
                        .map_err(|_| AppError::new("fee", 1, "corrupt min gas price amount"))?,
                    denom: stored.denom,
                })
            }
        }
    }

    pub(crate) fn save(&self, store: &mut impl Store) -> Result<(), AppError> {
        let stored = ve_proto::cosmos::base::v1beta1::Coin {
            denom: self.denom.clone(),
            amount: self.micro_per_gas.to_string(),
        };
        store.put(PARAMS_KEY.to_vec(), stored.encode_to_vec())
    }
}

impl fmt::Display for MinGasPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.micro_per_gas / SCALE;
        let frac = self.micro_per_gas % SCALE;
        if frac == 0 {
            write!(f, "{whole}{}", self.denom)
        } else {
            let digits = format!("{frac:06}");
            write!(f, "{whole}.{}{}", digits.trim_end_matches('0'), self.denom)
        }
    }
}

impl FromStr for MinGasPrice {
    type Err = String;
    /// Parses `0.025uve` (at most 6 decimals).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!("invalid gas price {s:?}: expected a decimal amount and a denom, like 0.025uve")
        };
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (num, denom) = s.split_at(split);
        ve_types::validate_denom(denom).map_err(|e| e.to_string())?;
        let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
        if whole.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let whole: u128 = whole.parse().map_err(|_| bad())?;
        let frac_scaled: u128 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<6}").parse().map_err(|_| bad())?
        };
        let micro = whole
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(frac_scaled))
            .ok_or_else(bad)?;
        Ok(Self {
            micro_per_gas: micro,
            denom: denom.to_string(),
        })
    }
}

impl serde::Serialize for MinGasPrice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for MinGasPrice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_price_parses_and_rounds_fee_up() {
        let p: MinGasPrice = "0.025uve".parse().unwrap();
        assert_eq!(p.micro_per_gas, 25_000);
        assert_eq!(p.to_string(), "0.025uve");
        assert_eq!(p.required_fee(200_000), 5_000);
        assert_eq!(p.required_fee(1), 1);
        assert!("0.0000001uve".parse::<MinGasPrice>().is_err());
        assert!("abc".parse::<MinGasPrice>().is_err());
    }
}
