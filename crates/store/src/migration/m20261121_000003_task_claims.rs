//! Claims on review tasks: who has a task open, since when, so that the queue offers the next
//! person another one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table("review_tasks")
                .add_column(string_null("claimed_by"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("review_tasks")
                .add_column(timestamp_with_time_zone_null("claimed_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["claimed_at", "claimed_by"] {
            m.alter_table(
                Table::alter()
                    .table("review_tasks")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
