use crate::{QueryContext, SDK_CODESPACE};
use ve_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use ve_storage::KvPairs;
use ve_types::AppError;

/// Page size when the client gives none, and the most one page may hold.
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;

/// Key-based pagination over a prefix, as Cosmos list queries expect. Offset pagination
/// is not supported (it costs a scan from the start on every page); `next_key` is the
/// raw store key to resume at, empty on the last page.
pub fn paginate(
    ctx: &QueryContext<'_>,
    prefix: &[u8],
    page: Option<&PageRequest>,
) -> Result<(KvPairs, PageResponse), AppError> {
    let limit = match page.map(|p| p.limit) {
        None | Some(0) => DEFAULT_PAGE,
        Some(l) => usize::try_from(l).unwrap_or(MAX_PAGE).min(MAX_PAGE),
    };
    let start = match page.map(|p| p.key.as_slice()) {
        Some(k) if !k.is_empty() => {
            if !k.starts_with(prefix) {
                return Err(AppError::new(
                    SDK_CODESPACE,
                    18,
                    "pagination key does not belong to this listing: pass the next_key of the previous page",
                ));
            }
            k.to_vec()
        }
        _ => prefix.to_vec(),
    };
    let end = prefix_end(prefix);
    let mut entries = ctx.range(&start, end.as_deref(), limit.saturating_add(1))?;
    let next_key = if entries.len() > limit {
        entries.pop().map(|(k, _)| k).unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok((entries, PageResponse { next_key, total: 0 }))
}

/// The smallest key above every key that starts with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last.saturating_add(1));
            return Some(end);
        }
    }
    None
}
