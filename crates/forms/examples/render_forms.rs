//! Renders a form of each shipped survey for an invented facility, a blank form, a reminder, and
//! the calibration page, with the layout files, into a folder (to look at them).
//!
//! `cargo run -p capsurvey-forms --example render_forms [OUT_DIR]` (default `target/forms-preview`)

use std::path::PathBuf;

use capsurvey_forms::campaign::Campaign;
use capsurvey_forms::form::{Facility, FormInstance, FormKind, FormTemplate};

const SURVEYS: [(&str, &str); 3] = [
    ("dental", include_str!("../../../surveys/dental.toml")),
    (
        "homecare-clinic",
        include_str!("../../../surveys/homecare-clinic.toml"),
    ),
    (
        "visiting-nurse",
        include_str!("../../../surveys/visiting-nurse.toml"),
    ),
];

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/forms-preview".into()),
    );
    std::fs::create_dir_all(&out).expect("create output folder");
    let campaign = Campaign::parse(
        "campaign.toml",
        include_str!("../../../fixtures/campaign.toml"),
    )
    .expect("campaign");
    let date = chrono::NaiveDate::from_ymd_opt(2024, 11, 8).expect("date");
    let facility = Facility {
        code: "1310012345".into(),
        name: "医療法人社団みどり会 みどり中央歯科クリニック".into(),
        postal_code: Some("123-4567".into()),
        address: Some("みどり市中央三丁目12番5号 みどりビル2階".into()),
        phone: Some("0120-000-333".into()),
        fax: None,
    };
    for (id, text) in SURVEYS {
        let parsed = capsurvey_survey::parse_survey(id, text).expect("survey");
        let template = FormTemplate::new(&parsed.survey, &parsed.content_hash, &campaign, date)
            .expect("template");
        for (kind, suffix) in [
            (FormKind::Initial, ""),
            (FormKind::Reminder, "-reminder"),
            (FormKind::Blank, "-blank"),
        ] {
            let doc = template
                .render(&FormInstance {
                    kind,
                    facility: Some(&facility),
                    survey_version_id: 1,
                    mailing_id: 123,
                    form_code: Some("D-000123"),
                })
                .expect("render");
            let path = out.join(format!("{id}{suffix}.pdf"));
            std::fs::write(&path, doc.to_pdf().expect("pdf")).expect("write");
            println!("{} ({} pages)", path.display(), doc.pages().len());
        }
        std::fs::write(
            out.join(format!("layout_{id}.json")),
            template.layout().to_json(),
        )
        .expect("write layout");
        for p in capsurvey_forms::form::plan_problems(&parsed.survey) {
            println!("  problem: {p}");
        }
    }
    let calibration =
        capsurvey_forms::calibration::calibration_document(Some(&campaign)).expect("calibration");
    let path = out.join("calibration.pdf");
    std::fs::write(&path, calibration.to_pdf().expect("pdf")).expect("write");
    println!("{}", path.display());
}
