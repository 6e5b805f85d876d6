//! The survey definitions shipped in `surveys/*.toml` parse, validate and still hold every item of
//! `survey-items.md` (A1 dental: 28, A2 home-care clinics: 30, A3 visiting-nurse stations: 26).
//!
//! Each definition prints the item number of survey-items.md as `number` ("8", or "18-1", "18-2" for
//! a row split into several questions), so dropping an item breaks `every_item_number_is_present`.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use capsurvey_survey::{
    FacilityType, Prefill, Question, QuestionKind, Survey, WriteIn, parse_survey, validate,
};

fn surveys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../surveys")
}

/// Every `surveys/*.toml`, parsed; panics with the diagnostics if one does not parse or validate.
fn shipped() -> Vec<(String, Survey)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(surveys_dir())
        .expect("surveys/ exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let parsed = parse_survey(&name, &text)
                .unwrap_or_else(|e| panic!("{name} does not parse:\n{e}"));
            (name, parsed.survey)
        })
        .collect()
}

fn load(id: &str) -> Survey {
    let path = surveys_dir().join(format!("{id}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_survey(&format!("{id}.toml"), &text)
        .unwrap_or_else(|e| panic!("{id}.toml:\n{e}"))
        .survey
}

/// (survey id, facility type, number of items in survey-items.md)
const EXPECTED: [(&str, FacilityType, u32); 3] = [
    ("dental", FacilityType::Dental, 28),
    ("homecare-clinic", FacilityType::HomecareClinic, 30),
    ("visiting-nurse", FacilityType::VisitingNurse, 26),
];

fn q<'a>(s: &'a Survey, id: &str) -> &'a Question {
    s.question(id)
        .unwrap_or_else(|| panic!("{}: question `{id}` is missing", s.id))
}

fn codes(q: &Question) -> Vec<&str> {
    q.options.iter().map(|o| o.code.as_str()).collect()
}

fn item_codes(q: &Question) -> Vec<&str> {
    q.items.iter().map(|i| i.code.as_str()).collect()
}

fn skip_targets(q: &Question) -> Vec<(Vec<&str>, &str)> {
    q.skip
        .iter()
        .map(|k| (k.when.iter().map(String::as_str).collect(), k.to.as_str()))
        .collect()
}

/// The printed number of the first question of a section, or of a question.
fn target_number(s: &Survey, to: &str) -> String {
    let id = s
        .sections
        .iter()
        .find(|sec| sec.id == to)
        .map(|sec| sec.questions[0].id.as_str())
        .unwrap_or(to);
    s.number_of(id)
        .unwrap_or_else(|| panic!("{}: skip target `{to}` not found", s.id))
}

/// The question ids a respondent passes through, following skips for the answers given.
fn walk(s: &Survey, answers: &[(&str, &str)]) -> Vec<String> {
    let flat: Vec<&Question> = s.questions().map(|(_, q)| q).collect();
    let start_of = |to: &str| {
        let first = s
            .sections
            .iter()
            .find(|sec| sec.id == to)
            .map_or(to, |sec| sec.questions[0].id.as_str());
        flat.iter()
            .position(|q| q.id == first)
            .expect("skip target exists")
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        let question = flat[i];
        out.push(question.id.clone());
        let answer = answers
            .iter()
            .find(|(id, _)| *id == question.id)
            .map(|(_, a)| *a);
        let rule =
            answer.and_then(|a| question.skip.iter().find(|k| k.when.iter().any(|w| w == a)));
        i = match rule {
            Some(k) => start_of(&k.to),
            None => i + 1,
        };
    }
    out
}

fn visits(path: &[String], id: &str) -> bool {
    path.iter().any(|p| p == id)
}

#[test]
fn the_three_surveys_are_shipped_and_valid() {
    let all = shipped();
    let names: BTreeSet<_> = all.iter().map(|(n, _)| n.as_str()).collect();
    for (id, ty, _) in EXPECTED {
        assert!(
            names.contains(format!("{id}.toml").as_str()),
            "surveys/{id}.toml is missing: {names:?}"
        );
        let s = load(id);
        assert_eq!(s.id, id);
        assert_eq!(s.facility_type, ty);
        assert!(s.version >= 1);
        assert!(!s.intro.trim().is_empty(), "{id}: intro is empty");
    }
    for (name, s) in &all {
        assert!(validate(s).is_empty(), "{name}: {:?}", validate(s));
        assert_eq!(
            format!("{}.toml", s.id),
            *name,
            "a survey file is named after its id"
        );
    }
}

#[test]
fn every_item_number_is_present() {
    for (id, _, items) in EXPECTED {
        let s = load(id);
        let count = s.questions().count();
        assert!(
            count >= items as usize,
            "{id}: {count} questions for {items} items"
        );
        let mut seen_numbers = HashSet::new();
        let mut item_numbers = BTreeSet::new();
        for (_, question) in s.questions() {
            let number = question
                .number
                .as_deref()
                .unwrap_or_else(|| panic!("{id}: `{}` has no number", question.id));
            assert!(
                seen_numbers.insert(number),
                "{id}: number {number} is printed twice"
            );
            let item: u32 = number
                .split('-')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| {
                    panic!(
                        "{id}: number `{number}` of `{}` is not N or N-M",
                        question.id
                    )
                });
            item_numbers.insert(item);
        }
        let expected: BTreeSet<u32> = (1..=items).collect();
        assert_eq!(
            item_numbers, expected,
            "{id}: printed item numbers differ from survey-items.md"
        );
    }
}

#[test]
fn forms_have_respondent_block_closing_text_and_key_questions() {
    for (id, _, _) in EXPECTED {
        let s = load(id);
        let prefills: Vec<Prefill> = s.questions().filter_map(|(_, q)| q.prefill).collect();
        for p in [
            Prefill::Name,
            Prefill::Address,
            Prefill::Phone,
            Prefill::Fax,
        ] {
            assert!(
                prefills.contains(&p),
                "{id}: nothing is pre-printed as {p:?}"
            );
        }
        let respondent = s
            .questions()
            .map(|(_, q)| q)
            .find(|q| q.kind == QuestionKind::ShortText && item_codes(q).contains(&"email"))
            .unwrap_or_else(|| panic!("{id}: no respondent question with an e-mail item"));
        assert_eq!(item_codes(respondent), ["title", "name", "phone", "email"]);

        let (_, last) = s.questions().last().unwrap();
        assert_eq!(
            last.kind,
            QuestionKind::LongText,
            "{id}: the last question is the closing free text"
        );

        assert!(
            s.questions().filter(|(_, q)| q.required).count() >= 2,
            "{id}: mark the key questions required"
        );
        let listing = s
            .questions()
            .map(|(_, q)| q)
            .find(|q| q.text.contains("掲載"))
            .unwrap_or_else(|| panic!("{id}: no question asks whether the facility may be listed"));
        assert!(listing.required && listing.kind == QuestionKind::Single);
        assert!(
            s.questions()
                .filter(|(_, q)| q.capability.is_some())
                .count()
                >= 5,
            "{id}: too few capabilities"
        );

        // Field keys are unique, and every count/decimal has a unit and a range.
        let fields = s.fields();
        let keys: HashSet<String> = fields.iter().map(|f| f.key()).collect();
        assert_eq!(
            keys.len(),
            fields.len(),
            "{id}: two answer fields share a key"
        );
        for (_, q) in s.questions().filter(|(_, q)| q.kind.is_numeric()) {
            assert!(
                q.unit.is_some() && q.max.is_some(),
                "{id}: `{}` needs unit and max",
                q.id
            );
        }
    }
}

#[test]
fn skip_notes_name_the_question_they_skip_to() {
    for (id, _, _) in EXPECTED {
        let s = load(id);
        for (_, question) in s.questions().filter(|(_, q)| !q.skip.is_empty()) {
            let note = question
                .note
                .as_deref()
                .unwrap_or_else(|| panic!("{id}: `{}` skips without a note", question.id));
            for rule in &question.skip {
                let n = target_number(&s, &rule.to);
                assert!(
                    note.contains(&format!("問{n}へ")),
                    "{id}: note of `{}` does not say 問{n}へ: {note}",
                    question.id
                );
            }
        }
    }
}

#[test]
fn printed_text_avoids_platform_dependent_characters() {
    // Circled and parenthesised numbers, Roman numerals, enclosed CJK and CJK compatibility (㈱ ㎝),
    // dingbat numbers, compatibility ideographs, and 髙.
    let bad = |c: char| {
        matches!(c as u32, 0x2150..=0x218F | 0x2460..=0x24FF | 0x2776..=0x2793 | 0x3200..=0x33FF | 0xF900..=0xFAFF)
            || c == '髙'
    };
    for (id, _, _) in EXPECTED {
        let s = load(id);
        let mut texts: Vec<&str> = vec![&s.title, &s.intro];
        for sec in &s.sections {
            texts.push(&sec.title);
            texts.extend(sec.note.as_deref());
            for q in &sec.questions {
                texts.push(&q.text);
                texts.extend(q.note.as_deref());
                texts.extend(q.unit.as_deref());
                texts.extend(q.capability.as_deref());
                texts.extend(q.options.iter().map(|o| o.label.as_str()));
                texts.extend(q.items.iter().map(|i| i.label.as_str()));
                texts.extend(q.labels.iter().flatten().map(String::as_str));
            }
        }
        for t in texts {
            assert!(
                !t.chars().any(bad),
                "{id}: platform-dependent character in {t:?}"
            );
        }
    }
}

#[test]
fn dental_spot_checks() {
    let s = load("dental");
    assert_eq!(s.questions().count(), 34);
    assert_eq!(s.reference_date.to_string(), "2024-11-01");
    let section_ids: Vec<_> = s.sections.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(
        section_ids,
        [
            "gaiyo", "jisshi", "mijisshi", "taiou", "renkei", "kohyo", "yobo"
        ]
    );

    let q08 = q(&s, "q08");
    assert_eq!((q08.kind, q08.required), (QuestionKind::Single, true));
    assert_eq!(codes(q08), ["1", "2", "3", "4"]);
    assert_eq!(skip_targets(q08), [(vec!["3", "4"], "mijisshi")]);
    assert_eq!(s.number_of("q16").as_deref(), Some("16"));

    let q04 = q(&s, "q04");
    assert_eq!(
        (q04.kind, item_codes(q04)),
        (QuestionKind::Count, vec!["full", "part"])
    );
    assert_eq!(q(&s, "q07").items.len(), 7);
    assert!(q(&s, "q06").option("7").is_some_and(|o| o.exclusive));
    assert_eq!(q(&s, "q12").options.len(), 14);
    assert_eq!(
        q(&s, "q12").option("14").map(|o| o.label.as_str()),
        Some("日・午後")
    );
    let q16 = q(&s, "q16");
    assert_eq!(q16.kind, QuestionKind::Multiple);
    assert_eq!(q16.options.len(), 10);
    assert_eq!(
        q16.option("10").and_then(|o| o.write_in),
        Some(WriteIn::Text)
    );
    assert_eq!(q(&s, "q11a").kind, QuestionKind::YesNo);
    assert_eq!(q(&s, "q11b").unit.as_deref(), Some("回"));
    assert_eq!(q(&s, "q18a").capability.as_deref(), Some("口腔ケア"));
    assert_eq!(q(&s, "q20").capability.as_deref(), Some("摂食嚥下"));
    assert!(q(&s, "q26").required);
    assert_eq!(q(&s, "q28").kind, QuestionKind::LongText);

    let keys: Vec<String> = s.fields().iter().map(|f| f.key()).collect();
    for k in [
        "q01a",
        "q02.email",
        "q04.full",
        "q04.part",
        "q07.xray",
        "q10.home",
        "q13.2",
        "q16.10",
    ] {
        assert!(keys.iter().any(|x| x == k), "dental: no field `{k}`");
    }

    // Visiting clinics answer 対応内容 and skip 未実施; the others answer 未実施 and skip 対応内容.
    let visiting = walk(&s, &[("q08", "1"), ("q11a", "yes"), ("q15", "2")]);
    for id in [
        "q09", "q10", "q11b", "q15", "q17", "q22", "q23a", "q26", "q28",
    ] {
        assert!(
            visits(&visiting, id),
            "a visiting clinic never reaches {id}: {visiting:?}"
        );
    }
    assert!(!visits(&visiting, "q16"));
    let not_visiting = walk(&s, &[("q08", "4"), ("q16", "1")]);
    for id in ["q16", "q23a", "q24", "q26", "q27", "q28"] {
        assert!(
            visits(&not_visiting, id),
            "a non-visiting clinic never reaches {id}: {not_visiting:?}"
        );
    }
    for id in ["q09", "q15", "q17", "q22"] {
        assert!(
            !visits(&not_visiting, id),
            "a non-visiting clinic is asked {id}"
        );
    }
    assert!(!visits(&walk(&s, &[("q08", "1"), ("q11a", "no")]), "q11b"));
}

#[test]
fn homecare_clinic_spot_checks() {
    let s = load("homecare-clinic");
    assert_eq!(s.questions().count(), 37);

    let q03 = q(&s, "q03");
    assert!(q03.required);
    assert_eq!(codes(q03), ["1", "2", "3", "4"]);
    assert_eq!(
        q03.option("2").and_then(|o| o.write_in),
        Some(WriteIn::Count)
    );
    assert_eq!(skip_targets(q03), [(vec!["1", "2", "3"], "q05")]);
    assert_eq!(q(&s, "q04").kind, QuestionKind::Multiple);
    assert_eq!(
        item_codes(q(&s, "q05")),
        [
            "dr_full",
            "dr_part",
            "nurse",
            "pharmacist",
            "clerk",
            "other"
        ]
    );
    let q06 = q(&s, "q06");
    assert_eq!(q06.options.len(), 11);
    assert_eq!(
        q06.options.last().and_then(|o| o.write_in),
        Some(WriteIn::Text)
    );
    assert_eq!(skip_targets(q(&s, "q07")), [(vec!["2", "3"], "q09")]);
    assert_eq!(skip_targets(q(&s, "q09")), [(vec!["2", "3"], "q11")]);
    let q11 = q(&s, "q11");
    assert_eq!(
        (q11.kind, q11.required, q11.capability.as_deref()),
        (QuestionKind::Single, true, Some("24時間往診"))
    );
    assert_eq!(q(&s, "q12").options.len(), 3);
    let q14 = q(&s, "q14");
    assert_eq!(
        (q14.kind, q14.required, q14.capability.as_deref()),
        (QuestionKind::YesNo, true, Some("看取り"))
    );
    assert_eq!(skip_targets(q14), [(vec!["no"], "q16")]);
    assert_eq!(item_codes(q(&s, "q15")), ["home", "facility"]);
    assert_eq!(q(&s, "q20").capability.as_deref(), Some("精神科"));
    assert_eq!(q(&s, "q22a").capability.as_deref(), Some("小児"));
    assert_eq!(q(&s, "q23").options.len(), 15);
    assert!(q(&s, "q30a").required);
    assert_eq!(q(&s, "q30b").kind, QuestionKind::LongText);

    let filed = walk(&s, &[("q03", "2"), ("q07", "1"), ("q09", "1")]);
    assert!(
        !visits(&filed, "q04")
            && visits(&filed, "q05")
            && visits(&filed, "q08")
            && visits(&filed, "q10")
    );
    let not_filed = walk(
        &s,
        &[("q03", "4"), ("q07", "3"), ("q09", "2"), ("q14", "no")],
    );
    assert!(visits(&not_filed, "q04") && visits(&not_filed, "q05"));
    assert!(!visits(&not_filed, "q08") && !visits(&not_filed, "q10") && !visits(&not_filed, "q15"));
    assert!(visits(&not_filed, "q11") && visits(&not_filed, "q16") && visits(&not_filed, "q30b"));
}

#[test]
fn visiting_nurse_spot_checks() {
    let s = load("visiting-nurse");
    assert_eq!(s.questions().count(), 38);
    assert_eq!(q(&s, "q01b").prefill, Some(Prefill::Code));

    let q05 = q(&s, "q05");
    assert_eq!(
        (q05.kind, q05.decimals, q05.max),
        (QuestionKind::Decimal, Some(1), Some(99.9))
    );
    assert_eq!(q05.items.len(), 9);
    assert_eq!(q(&s, "q07a").kind, QuestionKind::Multiple);
    assert_eq!(
        (q(&s, "q07b").kind, item_codes(q(&s, "q07b"))),
        (QuestionKind::Count, vec!["cns", "cn"])
    );
    assert_eq!(q(&s, "q09a").capability.as_deref(), Some("24時間対応"));
    assert_eq!(q(&s, "q09b").kind, QuestionKind::YesNo);
    assert!(q(&s, "q10").required);
    let q12 = q(&s, "q12");
    assert_eq!(codes(q12), ["1", "2", "3", "4", "5"]);
    assert_eq!(skip_targets(q12), [(vec!["1", "2", "3"], "q14")]);
    assert_eq!(q(&s, "q13").options.len(), 11);
    assert_eq!(q(&s, "q14").capability.as_deref(), Some("精神科"));
    assert_eq!(item_codes(q(&s, "q16")), ["medical", "care"]);
    assert_eq!(q(&s, "q17a").capability.as_deref(), Some("小児"));
    assert_eq!(q(&s, "q21").options.len(), 23);
    assert_eq!(q(&s, "q24b").kind, QuestionKind::Single);
    assert!(q(&s, "q26a").required);
    assert_eq!(q(&s, "q26b").kind, QuestionKind::LongText);

    let keys: Vec<String> = s.fields().iter().map(|f| f.key()).collect();
    for k in [
        "q01b",
        "q05.nurse",
        "q05.other",
        "q07a.10",
        "q07b.cn",
        "q24a.2",
        "q24b.2",
    ] {
        assert!(
            keys.iter().any(|x| x == k),
            "visiting-nurse: no field `{k}`"
        );
    }

    let strong = walk(&s, &[("q07a", "1"), ("q12", "1"), ("q17a", "yes")]);
    assert!(
        visits(&strong, "q07b")
            && !visits(&strong, "q13")
            && visits(&strong, "q14")
            && visits(&strong, "q17b")
    );
    let plain = walk(&s, &[("q07a", "11"), ("q12", "5"), ("q17a", "no")]);
    assert!(
        !visits(&plain, "q07b")
            && visits(&plain, "q08")
            && visits(&plain, "q13")
            && !visits(&plain, "q17b")
    );
    assert!(visits(&plain, "q26b"));
}

/// Text answers have a length limit (issue 9: a damaged file's 10 MB cell must not become an
/// answer): short texts and write-ins 500 characters, long texts 4,000, counted in characters.
#[test]
fn text_answers_have_a_length_limit() {
    use capsurvey_survey::{LONG_TEXT_MAX_CHARS, SHORT_TEXT_MAX_CHARS, Value, ValueError};
    let s = load("dental");
    let text = |n: usize| Value::Text("あ".repeat(n));
    let name = q(&s, "q02")
        .fields()
        .into_iter()
        .find(|f| f.part == Some("name"));
    let name = name.expect("q02.name");
    assert_eq!(name.max_chars(), Some(SHORT_TEXT_MAX_CHARS));
    assert_eq!(name.check(&text(SHORT_TEXT_MAX_CHARS)), Ok(()));
    assert_eq!(
        name.check(&text(SHORT_TEXT_MAX_CHARS + 1)),
        Err(ValueError::TooLong {
            chars: SHORT_TEXT_MAX_CHARS + 1,
            max: SHORT_TEXT_MAX_CHARS
        })
    );
    let (_, wishes) = s
        .questions()
        .find(|(_, q)| q.kind == QuestionKind::LongText)
        .expect("a long text question");
    let field = wishes.fields()[0];
    assert_eq!(field.max_chars(), Some(LONG_TEXT_MAX_CHARS));
    assert_eq!(field.check(&text(LONG_TEXT_MAX_CHARS)), Ok(()));
    assert!(field.check(&text(LONG_TEXT_MAX_CHARS + 1)).is_err());
    assert_eq!(q(&s, "q08").fields()[0].max_chars(), None);
}
