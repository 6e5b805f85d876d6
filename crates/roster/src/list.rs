//! Reading the roster back: the facility list (as a table for people or CSV for Excel) and the
//! manual area override.

use capsurvey_store::entity::facilities;
use capsurvey_store::{audit, now};
use capsurvey_survey::FacilityType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::Serialize;
use serde_json::json;

use crate::error::RosterError;
use crate::keys::clean_code;

/// Which facilities to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this type.
    pub facility_type: Option<FacilityType>,
    /// Only this area (the effective one: the override if set, else the assigned area).
    pub area: Option<String>,
}

/// One facility as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListRow {
    /// Facility code.
    pub code: String,
    /// Facility type identifier.
    pub facility_type: String,
    /// Name.
    pub name: String,
    /// The effective area.
    pub area: Option<String>,
    /// Whether `area` was set by hand (`roster set-area`).
    pub area_is_override: bool,
    /// Phone.
    pub phone: Option<String>,
    /// FAX.
    pub fax: Option<String>,
    /// Address.
    pub address: Option<String>,
}

/// The facilities matching `filter`, by type and code.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &ListFilter,
) -> Result<Vec<ListRow>, RosterError> {
    let mut q = facilities::Entity::find()
        .order_by_asc(facilities::Column::FacilityType)
        .order_by_asc(facilities::Column::Code);
    if let Some(t) = filter.facility_type {
        q = q.filter(facilities::Column::FacilityType.eq(t.as_str()));
    }
    let rows = q
        .all(conn)
        .await?
        .into_iter()
        .map(|f| ListRow {
            area_is_override: f.area_override.is_some(),
            area: f.area_override.or(f.area),
            code: f.code,
            facility_type: f.facility_type,
            name: f.name,
            phone: f.phone,
            fax: f.fax,
            address: f.address,
        })
        .filter(|r| {
            filter
                .area
                .as_ref()
                .is_none_or(|a| r.area.as_ref() == Some(a))
        })
        .collect();
    Ok(rows)
}

/// What `set_area_override` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaOverride {
    /// The facility's code.
    pub code: String,
    /// The facility's name.
    pub name: String,
    /// The override before.
    pub before: Option<String>,
    /// The override now.
    pub after: Option<String>,
    /// The area from the map, which applies again once the override is cleared.
    pub assigned: Option<String>,
}

/// Sets (or with `None` clears) a facility's manual area, which wins over the map and survives
/// re-imports. Audited when it changes.
pub async fn set_area_override(
    db: &DatabaseConnection,
    code: &str,
    area: Option<&str>,
    actor: &str,
) -> Result<AreaOverride, RosterError> {
    let code = clean_code(code);
    let txn = db.begin().await?;
    let fac = facilities::Entity::find()
        .filter(facilities::Column::Code.eq(&code))
        .one(&txn)
        .await?
        .ok_or_else(|| RosterError::UnknownFacility { code: code.clone() })?;
    let after = area
        .map(capsurvey_jptext::normalize)
        .filter(|a| !a.is_empty());
    let result = AreaOverride {
        code: fac.code.clone(),
        name: fac.name.clone(),
        before: fac.area_override.clone(),
        after: after.clone(),
        assigned: fac.area.clone(),
    };
    if fac.area_override != after {
        let id = fac.id;
        let mut am: facilities::ActiveModel = fac.into();
        am.area_override = Set(after.clone());
        am.updated_at = Set(now());
        am.update(&txn).await?;
        audit(
            &txn,
            actor,
            "facility.area_override",
            "facilities",
            Some(id),
            json!({"code": code, "changes": {"area_override": {"before": result.before, "after": after}}}),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(result)
}

/// Display width in a terminal: East Asian wide characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// The rows as an aligned table; an area set by hand is marked `*`.
pub fn render_table(rows: &[ListRow]) -> String {
    let header = ["code", "type", "name", "area", "phone", "fax", "address"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let area =
                r.area.clone().unwrap_or_default() + if r.area_is_override { "*" } else { "" };
            [
                r.code.clone(),
                r.facility_type.clone(),
                r.name.clone(),
                area,
                r.phone.clone().unwrap_or_default(),
                r.fax.clone().unwrap_or_default(),
                r.address.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.map(width);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(c));
        }
    }
    let line = |cols: Vec<&str>| {
        let last = cols.len() - 1;
        let mut s: String = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    (*c).to_owned()
                } else {
                    pad(c, widths[i]) + "  "
                }
            })
            .collect();
        s.truncate(s.trim_end().len());
        s + "\n"
    };
    let mut out = line(header.to_vec());
    for row in &cells {
        out += &line(row.iter().map(String::as_str).collect());
    }
    if rows.iter().any(|r| r.area_is_override) {
        out += "* area set by hand (capsurvey roster set-area)\n";
    }
    out += &format!("{} facilities\n", rows.len());
    out
}

/// The rows as CSV (UTF-8, header `code,type,name,area,area_override,phone,fax,address`).
pub fn render_csv(rows: &[ListRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "code",
        "type",
        "name",
        "area",
        "area_override",
        "phone",
        "fax",
        "address",
    ]);
    for r in rows {
        let _ = w.write_record([
            r.code.as_str(),
            r.facility_type.as_str(),
            r.name.as_str(),
            r.area.as_deref().unwrap_or(""),
            if r.area_is_override { "1" } else { "" },
            r.phone.as_deref().unwrap_or(""),
            r.fax.as_deref().unwrap_or(""),
            r.address.as_deref().unwrap_or(""),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_wide_characters() {
        let rows = vec![
            ListRow {
                code: "1330000001".into(),
                facility_type: "dental".into(),
                name: "みどり歯科".into(),
                area: Some("中央".into()),
                area_is_override: true,
                phone: Some("042-911-0001".into()),
                fax: None,
                address: Some("みどり市本町1-1".into()),
            },
            ListRow {
                code: "L001".into(),
                facility_type: "dental".into(),
                name: "ABC".into(),
                area: None,
                area_is_override: false,
                phone: None,
                fax: None,
                address: None,
            },
        ];
        let t = render_table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            width(&lines[1][..lines[1].find("中央").unwrap()]),
            width(&lines[0][..lines[0].find("area").unwrap()])
        );
        assert!(lines[1].contains("中央*"));
        assert!(t.contains("* area set by hand"));
        let csv = render_csv(&rows);
        assert!(csv.starts_with("code,type,name,area,area_override"));
        assert!(csv.contains("1330000001,dental,みどり歯科,中央,1,042-911-0001,,みどり市本町1-1"));
    }
}
