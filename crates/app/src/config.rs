use ve_storage::StorageConfig;

/// Node-local settings of the application (not consensus: two nodes may differ).
#[derive(Clone, Debug, Default)]
pub struct AppConfig {
    /// How many past heights stay queryable.
    pub storage: StorageConfig,
}
