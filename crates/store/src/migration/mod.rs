//! Schema migrations, one per file (sea-orm names a migration after its file).

use sea_orm_migration::prelude::*;

mod m20261121_000001_initial;
mod m20261121_000002_users;
mod m20261121_000003_task_claims;

/// Applies every migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_initial::Migration),
            Box::new(m20261121_000002_users::Migration),
            Box::new(m20261121_000003_task_claims::Migration),
        ]
    }
}
