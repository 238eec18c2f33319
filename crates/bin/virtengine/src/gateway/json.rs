//! Protobuf ⇄ JSON in the Cosmos REST format.
//!
//! The Cosmos SDK gateway (grpc-gateway with gogoproto jsonpb, `OrigName` and `EmitDefaults`)
//! writes proto field names in snake_case, emits default values, writes 64-bit integers as
//! strings, bytes as base64, enums by name, unset messages and empty bytes as `null`, and an
//! `Any` as `{"@type": url, ...fields}`. We get the same by reflecting over the message
//! descriptors (`prost-reflect`) instead of hand-writing a serde type per response, so every
//! message in [`super::descriptors`] maps the same way and cannot drift from the wire format.

use super::descriptors;
use anyhow::{anyhow, Context};
use prost::Message;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, ReflectMessage, SerializeOptions};
use serde_json::{Map, Value};

/// Decodes `bytes` as the message `full_name` and renders it as Cosmos JSON.
pub fn to_json(full_name: &str, bytes: &[u8]) -> anyhow::Result<Value> {
    let desc = descriptors::message(full_name)?;
    let msg = DynamicMessage::decode(desc.clone(), bytes)
        .with_context(|| format!("decoding {full_name}"))?;
    message_to_json(&msg)
}

/// Renders a prost message (any type in the descriptor pool) as Cosmos JSON.
pub fn prost_to_json<M: Message + prost::Name>(msg: &M) -> anyhow::Result<Value> {
    to_json(&M::full_name(), &msg.encode_to_vec())
}

/// prost-reflect 0.14 expands an `Any` only when its type URL starts with this domain, while
/// Cosmos type URLs are `/<full name>`; we swap the prefix in before rendering and out after.
const GOOGLE_TYPE_DOMAIN: &str = "type.googleapis.com";

/// Renders a dynamic message as Cosmos JSON.
pub fn message_to_json(msg: &DynamicMessage) -> anyhow::Result<Value> {
    let mut msg = msg.clone();
    qualify_any_urls(&mut msg)?;
    let opts = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(true)
        .use_enum_numbers(false);
    let mut v = msg
        .serialize_with_options(serde_json::value::Serializer, &opts)
        .with_context(|| format!("rendering {} as JSON", msg.descriptor().full_name()))?;
    unqualify_any_urls(&mut v);
    fill_nulls(&msg.descriptor(), &mut v);
    Ok(v)
}

/// Rewrites every `Any` in `msg` (including `Any`s packed inside `Any`s) from `/name` to
/// `type.googleapis.com/name`.
fn qualify_any_urls(msg: &mut DynamicMessage) -> anyhow::Result<()> {
    if msg.descriptor().full_name() == "google.protobuf.Any" {
        let url = match msg.get_field_by_number(1).as_deref() {
            Some(prost_reflect::Value::String(u)) => u.clone(),
            _ => return Ok(()),
        };
        if !url.starts_with('/') {
            return Ok(());
        }
        let inner_desc = descriptors::message(&url[1..])
            .with_context(|| format!("cannot render an Any of unknown type {url}"))?;
        let bytes = match msg.get_field_by_number(2).as_deref() {
            Some(prost_reflect::Value::Bytes(b)) => b.clone(),
            _ => Default::default(),
        };
        let mut inner = DynamicMessage::decode(inner_desc, bytes)
            .with_context(|| format!("decoding Any of type {url}"))?;
        qualify_any_urls(&mut inner)?;
        msg.set_field_by_number(
            1,
            prost_reflect::Value::String(format!("{GOOGLE_TYPE_DOMAIN}{url}")),
        );
        msg.set_field_by_number(2, prost_reflect::Value::Bytes(inner.encode_to_vec().into()));
        return Ok(());
    }
    for (_, value) in msg.fields_mut() {
        match value {
            prost_reflect::Value::Message(m) => qualify_any_urls(m)?,
            prost_reflect::Value::List(items) => {
                for item in items {
                    if let prost_reflect::Value::Message(m) = item {
                        qualify_any_urls(m)?;
                    }
                }
            }
            prost_reflect::Value::Map(entries) => {
                for item in entries.values_mut() {
                    if let prost_reflect::Value::Message(m) = item {
                        qualify_any_urls(m)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Turns `"@type": "type.googleapis.com/name"` back into the Cosmos `"/name"`.
fn unqualify_any_urls(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            if let Some(Value::String(url)) = obj.get_mut("@type") {
                if let Some(rest) = url.strip_prefix(GOOGLE_TYPE_DOMAIN) {
                    *url = rest.to_string();
                }
            }
            obj.values_mut().for_each(unqualify_any_urls);
        }
        Value::Array(items) => items.iter_mut().for_each(unqualify_any_urls),
        _ => {}
    }
}

/// Parses Cosmos (or canonical proto3) JSON into the message `full_name`, returning its bytes.
pub fn from_json(full_name: &str, json: Value) -> anyhow::Result<Vec<u8>> {
    let desc = descriptors::message(full_name)?;
    let msg = DynamicMessage::deserialize(desc, json)
        .map_err(|e| anyhow!("invalid {full_name} JSON: {e}"))?;
    Ok(msg.encode_to_vec())
}

/// Builds a request message from URL path parameters and query-string parameters the way
/// grpc-gateway does: `a.b=c` sets nested field `b` of `a`, values are converted by the
/// field's type (`"true"` for bools, numbers stay strings, which proto JSON accepts), and
/// a repeated field collects every occurrence. Unknown parameters are rejected.
pub fn request_from_params(
    full_name: &str,
    params: &[(String, String)],
) -> anyhow::Result<Vec<u8>> {
    let desc = descriptors::message(full_name)?;
    let mut root = Map::new();
    for (key, raw) in params {
        let path: Vec<&str> = key.split('.').collect();
        set_param(&desc, &mut root, &path, raw).with_context(|| format!("parameter {key}"))?;
    }
    from_json(full_name, Value::Object(root))
}

fn set_param(
    desc: &MessageDescriptor,
    obj: &mut Map<String, Value>,
    path: &[&str],
    raw: &str,
) -> anyhow::Result<()> {
    let (first, rest) = path
        .split_first()
        .ok_or_else(|| anyhow!("empty parameter name"))?;
    let field = desc
        .get_field_by_name(first)
        .or_else(|| desc.get_field_by_json_name(first))
        .ok_or_else(|| anyhow!("unknown field {first:?} in {}", desc.full_name()))?;
    let name = field.name().to_string();
    if !rest.is_empty() {
        let Kind::Message(sub) = field.kind() else {
            return Err(anyhow!("{first} is not a message"));
        };
        let entry = obj.entry(name).or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(inner) = entry else {
            return Err(anyhow!("{first} given twice"));
        };
        return set_param(&sub, inner, rest, raw);
    }
    let value = match field.kind() {
        Kind::Bool => Value::Bool(match raw {
            "true" | "1" => true,
            "false" | "0" | "" => false,
            other => return Err(anyhow!("{other:?} is not a boolean")),
        }),
        Kind::Message(_) => return Err(anyhow!("{first} is a message, set its fields")),
        _ => Value::String(raw.to_string()),
    };
    if field.is_list() {
        match obj.entry(name).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(a) => a.push(value),
            _ => return Err(anyhow!("{first} given twice")),
        }
    } else {
        obj.insert(name, value);
    }
    Ok(())
}

/// Adds what gogoproto's `EmitDefaults` shows and prost-reflect leaves out: unset singular
/// message fields as `null`, and empty `bytes` as `null` (e.g. `pagination.next_key`).
fn fill_nulls(desc: &MessageDescriptor, v: &mut Value) {
    let Value::Object(obj) = v else { return };
    if desc.full_name() == "google.protobuf.Any" {
        return;
    }
    for field in desc.fields() {
        let name = field.name();
        if field.is_map() {
            continue;
        }
        match field.kind() {
            Kind::Message(sub) => {
                if field.is_list() {
                    if let Some(Value::Array(items)) = obj.get_mut(name) {
                        for item in items {
                            fill_any_or_message(&sub, item);
                        }
                    }
                } else {
                    match obj.get_mut(name) {
                        Some(item) => fill_any_or_message(&sub, item),
                        None => {
                            obj.insert(name.to_string(), Value::Null);
                        }
                    }
                }
            }
            Kind::Bytes if !field.is_list() => {
                if matches!(obj.get(name), Some(Value::String(s)) if s.is_empty()) {
                    obj.insert(name.to_string(), Value::Null);
                }
            }
            _ => {}
        }
    }
}

fn fill_any_or_message(desc: &MessageDescriptor, v: &mut Value) {
    if desc.full_name() == "google.protobuf.Any" {
        let inner = v
            .get("@type")
            .and_then(Value::as_str)
            .map(|url| url.rsplit('/').next().unwrap_or(url).to_string());
        if let Some(inner) = inner.and_then(|n| descriptors::message(&n).ok()) {
            fill_nulls(&inner, v);
        }
    } else if !desc.full_name().starts_with("google.protobuf.") {
        fill_nulls(desc, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountResponse};
    use cosmos_sdk_proto::cosmos::bank::v1beta1::QueryAllBalancesRequest;
    use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse;
    use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
    use cosmos_sdk_proto::Any;

    #[test]
    fn account_renders_like_the_cosmos_gateway() {
        let acc = BaseAccount {
            address: "ve1abc".into(),
            pub_key: Some(Any {
                type_url: "/cosmos.crypto.secp256k1.PubKey".into(),
                value: PubKey { key: vec![2; 33] }.encode_to_vec(),
            }),
            account_number: 7,
            sequence: 0,
        };
        let resp = QueryAccountResponse {
            account: Some(Any {
                type_url: "/cosmos.auth.v1beta1.BaseAccount".into(),
                value: acc.encode_to_vec(),
            }),
        };
        let v = prost_to_json(&resp).unwrap();
        assert_eq!(v["account"]["@type"], "/cosmos.auth.v1beta1.BaseAccount");
        assert_eq!(v["account"]["account_number"], "7");
        assert_eq!(v["account"]["sequence"], "0");
        assert_eq!(
            v["account"]["pub_key"]["@type"],
            "/cosmos.crypto.secp256k1.PubKey"
        );
        assert_eq!(
            v["account"]["pub_key"]["key"],
            "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC"
        );

        let no_key = BaseAccount {
            pub_key: None,
            ..acc
        };
        let v = to_json("cosmos.auth.v1beta1.BaseAccount", &no_key.encode_to_vec()).unwrap();
        assert_eq!(v["pub_key"], Value::Null);
    }

    #[test]
    fn empty_next_key_is_null_and_total_a_string() {
        let v = prost_to_json(&PageResponse {
            next_key: vec![],
            total: 3,
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"next_key": null, "total": "3"}));
    }

    #[test]
    fn query_params_build_nested_requests() {
        let params = vec![
            ("address".to_string(), "ve1xyz".to_string()),
            ("pagination.limit".to_string(), "2".to_string()),
            ("pagination.count_total".to_string(), "true".to_string()),
            ("pagination.key".to_string(), "AQI=".to_string()),
        ];
        let bytes =
            request_from_params("cosmos.bank.v1beta1.QueryAllBalancesRequest", &params).unwrap();
        let req = QueryAllBalancesRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(req.address, "ve1xyz");
        let p = req.pagination.unwrap();
        assert_eq!((p.limit, p.count_total, p.key), (2, true, vec![1, 2]));

        let bad = vec![("nope".to_string(), "1".to_string())];
        assert!(request_from_params("cosmos.bank.v1beta1.QueryAllBalancesRequest", &bad).is_err());
    }
}
