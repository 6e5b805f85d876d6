//! Accounts and sessions for the review site: who may log in, with which role, and who is logged in.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(string_uniq("name"))
                .col(string("role"))
                .col(text("password_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(boolean("disabled").default(false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("sessions")
                .col(string("id").primary_key())
                .col(big_integer("user_id"))
                .col(string("csrf_token"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_sessions_user_id")
                        .from("sessions", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_sessions_user_id")
                .table("sessions")
                .col("user_id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("sessions").to_owned())
            .await?;
        m.drop_table(Table::drop().table("users").to_owned())
            .await?;
        Ok(())
    }
}
