//! The first schema: roster, survey versions, mailings, responses, answers, pages, review, audit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn now_ts(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone(name)
}

fn fk(table: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(table: &'static str, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table);
    for c in cols {
        idx.col(*c);
    }
    if unique {
        idx.unique();
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("imported_files")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(text("path"))
                .col(string("content_hash"))
                .col(big_integer("size"))
                .col(text_null("summary"))
                .col(now_ts("imported_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("imported_files", &["kind", "content_hash"], true))
            .await?;

        m.create_table(
            Table::create()
                .table("facilities")
                .col(big_pk_auto("id"))
                .col(string_uniq("code"))
                .col(string("facility_type"))
                .col(text("name"))
                .col(text_null("name_kana"))
                .col(string_null("postal_code"))
                .col(text_null("address"))
                .col(string_null("phone"))
                .col(string_null("fax"))
                .col(double_null("latitude"))
                .col(double_null("longitude"))
                .col(string_null("area"))
                .col(string_null("area_override"))
                .col(text_null("filings"))
                .col(now_ts("created_at"))
                .col(now_ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("facility_sources")
                .col(big_pk_auto("id"))
                .col(big_integer("facility_id"))
                .col(string("source_kind"))
                .col(string("source_key"))
                .col(big_integer("imported_file_id"))
                .col(big_integer("line"))
                .col(text("record"))
                .col(now_ts("updated_at"))
                .foreign_key(&mut fk("facility_sources", "facility_id", "facilities"))
                .foreign_key(&mut fk(
                    "facility_sources",
                    "imported_file_id",
                    "imported_files",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "facility_sources",
            &["source_kind", "source_key"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("survey_versions")
                .col(big_pk_auto("id"))
                .col(string("survey_id"))
                .col(integer("version"))
                .col(string("content_hash"))
                .col(text("title"))
                .col(string("facility_type"))
                .col(text("definition"))
                .col(now_ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("survey_versions", &["survey_id", "version"], true))
            .await?;

        m.create_table(
            Table::create()
                .table("mailings")
                .col(big_pk_auto("id"))
                .col(big_integer("survey_version_id"))
                .col(big_integer_null("facility_id"))
                .col(string("batch"))
                .col(string("kind"))
                .col(string_uniq("form_code"))
                .col(now_ts("created_at"))
                .foreign_key(&mut fk("mailings", "survey_version_id", "survey_versions"))
                .foreign_key(&mut fk("mailings", "facility_id", "facilities"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "mailings",
            &["survey_version_id", "facility_id"],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("responses")
                .col(big_pk_auto("id"))
                .col(big_integer("survey_version_id"))
                .col(big_integer("facility_id"))
                .col(big_integer_null("mailing_id"))
                .col(string("status"))
                .col(now_ts("created_at"))
                .col(now_ts("updated_at"))
                .foreign_key(&mut fk("responses", "survey_version_id", "survey_versions"))
                .foreign_key(&mut fk("responses", "facility_id", "facilities"))
                .foreign_key(&mut fk("responses", "mailing_id", "mailings"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "responses",
            &["survey_version_id", "facility_id"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("scanned_pages")
                .col(big_pk_auto("id"))
                .col(string_uniq("content_hash"))
                .col(big_integer_null("imported_file_id"))
                .col(text("source_file"))
                .col(integer("page_index"))
                .col(big_integer_null("survey_version_id"))
                .col(big_integer_null("mailing_id"))
                .col(integer_null("page_number"))
                .col(string("status"))
                .col(text_null("image_path"))
                .col(text_null("transform"))
                .col(now_ts("created_at"))
                .foreign_key(&mut fk(
                    "scanned_pages",
                    "imported_file_id",
                    "imported_files",
                ))
                .foreign_key(&mut fk(
                    "scanned_pages",
                    "survey_version_id",
                    "survey_versions",
                ))
                .foreign_key(&mut fk("scanned_pages", "mailing_id", "mailings"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("answers")
                .col(big_pk_auto("id"))
                .col(big_integer("response_id"))
                .col(string("field_key"))
                .col(text_null("value"))
                .col(string("source_kind"))
                .col(text("source_ref"))
                .col(big_integer_null("scanned_page_id"))
                .col(big_integer_null("imported_file_id"))
                .col(big_integer_null("row_number"))
                .col(string_null("person"))
                .col(double_null("confidence"))
                .col(string("status"))
                .col(big_integer_null("superseded_by"))
                .col(now_ts("created_at"))
                .foreign_key(&mut fk("answers", "response_id", "responses"))
                .foreign_key(&mut fk("answers", "scanned_page_id", "scanned_pages"))
                .foreign_key(&mut fk("answers", "imported_file_id", "imported_files"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("answers", &["response_id", "field_key"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("review_tasks")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(big_integer_null("survey_version_id"))
                .col(big_integer_null("response_id"))
                .col(string_null("field_key"))
                .col(big_integer_null("answer_id"))
                .col(big_integer_null("scanned_page_id"))
                .col(text("payload"))
                .col(string("status"))
                .col(integer("lock_version"))
                .col(string_null("resolved_by"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .col(string_uniq("dedup_key"))
                .col(now_ts("created_at"))
                .foreign_key(&mut fk(
                    "review_tasks",
                    "survey_version_id",
                    "survey_versions",
                ))
                .foreign_key(&mut fk("review_tasks", "response_id", "responses"))
                .foreign_key(&mut fk("review_tasks", "answer_id", "answers"))
                .foreign_key(&mut fk("review_tasks", "scanned_page_id", "scanned_pages"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("review_tasks", &["status", "kind"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .col(big_pk_auto("id"))
                .col(now_ts("at"))
                .col(string("actor"))
                .col(string("action"))
                .col(string("entity"))
                .col(big_integer_null("entity_id"))
                .col(text("detail"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "audit_log",
            "review_tasks",
            "answers",
            "scanned_pages",
            "responses",
            "mailings",
            "survey_versions",
            "facility_sources",
            "facilities",
            "imported_files",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
