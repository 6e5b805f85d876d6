//! Writes the reply-file fixtures in `fixtures/replies/`: every encoding and layout the importer
//! reads, messy values, a broken row, a truncated file, an unknown facility.
//!
//! ```text
//! cargo run -p capsurvey-tabular --example make-reply-fixtures [-- OUT_DIR]
//! ```
//!
//! Deterministic: the same program writes the same bytes (a fixed-seed generator, a fixed
//! workbook date), so the fixtures can be committed and regenerated without noise.
//!
//! Facility codes: taken from the roster fixtures (`fixtures/roster/*.csv`) when they are
//! there, by facility type; otherwise the invented codes below. Either way the codes used are
//! written to `roster/facilities.csv`, which tests load as the roster.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use capsurvey_survey::{Field, FieldKind, Parsed, QuestionKind, Survey, parse_survey};

/// A tiny deterministic generator (xorshift64*): fixtures must not change between runs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone)]
struct Facility {
    code: String,
    kind: &'static str,
    name: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn survey(id: &str) -> Parsed {
    let path = root().join("surveys").join(format!("{id}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_survey(&path.display().to_string(), &text).expect("shipped survey parses")
}

/// Codes from the roster fixtures (`fixtures/roster/`, written by the roster crate's generator),
/// by facility type, so that importing the roster fixtures and then these replies matches every
/// row. Read from the two official lists there, whose codes the roster keeps as they are:
///
/// - 届出受理医療機関名簿 (`13_todokede_*.xlsx`): 医療機関コード = 都道府県コード (2 digits) +
///   点数表 (1 医科, 3 歯科) + 医療機関番号 (7 digits);
/// - 介護サービス情報公表 (`jigyosho_*.csv`): 事業所番号 of 訪問看護 services.
fn roster_codes() -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let dir = root().join("fixtures/roster");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return BTreeMap::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let rows: Vec<Vec<String>> = match ext {
            "xlsx" => {
                use calamine::Reader as _;
                let Ok(mut wb) = calamine::open_workbook_auto(&p) else {
                    continue;
                };
                let Some(name) = wb.sheet_names().first().cloned() else {
                    continue;
                };
                let Ok(range) = wb.worksheet_range(&name) else {
                    continue;
                };
                range
                    .rows()
                    .map(|r| r.iter().map(|c| c.to_string()).collect())
                    .collect()
            }
            "csv" => {
                let Ok(bytes) = std::fs::read(&p) else {
                    continue;
                };
                let Ok((text, _)) = capsurvey_jptext::decode(&bytes) else {
                    continue;
                };
                let mut rdr = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(text.as_bytes());
                rdr.records()
                    .flatten()
                    .map(|r| r.iter().map(str::to_owned).collect())
                    .collect()
            }
            _ => continue,
        };
        let Some(h) = rows.iter().position(|r| {
            r.iter().any(|c| c == "医療機関番号") || r.iter().any(|c| c == "事業所番号")
        }) else {
            continue;
        };
        let col = |name: &str| rows[h].iter().position(|c| c == name);
        if let (Some(number), Some(pref), Some(section), Some(name)) = (
            col("医療機関番号"),
            col("都道府県コード"),
            col("区分"),
            col("医療機関名称"),
        ) {
            for r in &rows[h + 1..] {
                let (Some(n), Some(p), Some(sec), Some(nm)) =
                    (r.get(number), r.get(pref), r.get(section), r.get(name))
                else {
                    continue;
                };
                let (kind, table) = match sec.as_str() {
                    "歯科" => ("dental", 3),
                    "医科" => ("homecare-clinic", 1),
                    _ => continue,
                };
                let Ok(pref) = p.trim().parse::<u32>() else {
                    continue;
                };
                if n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()) {
                    out.entry(kind.into())
                        .or_default()
                        .insert(format!("{pref:02}{table}{n}"), nm.clone());
                }
            }
        } else if let (Some(code), Some(service), Some(name)) =
            (col("事業所番号"), col("サービスの種類"), col("事業所名"))
        {
            for r in &rows[h + 1..] {
                if let (Some(c), Some(s), Some(nm)) = (r.get(code), r.get(service), r.get(name))
                    && s.contains("訪問看護")
                    && c.len() == 10
                {
                    out.entry("visiting-nurse".into())
                        .or_default()
                        .insert(c.clone(), nm.clone());
                }
            }
        }
    }
    out.into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}

fn facilities() -> (Vec<Facility>, &'static str) {
    // (type, how many, invented code prefix, invented names)
    let wanted: [(&str, usize, &str, &str); 3] = [
        ("dental", 9, "13301000", "歯科医院"),
        ("homecare-clinic", 5, "13101000", "クリニック"),
        ("visiting-nurse", 5, "13601000", "訪問看護ステーション"),
    ];
    let roster = roster_codes();
    let from_roster = wanted
        .iter()
        .all(|(t, n, _, _)| roster.get(*t).is_some_and(|v| v.len() >= *n));
    let towns = [
        "みどり",
        "さくら",
        "けやき",
        "ひばり",
        "かえで",
        "つばき",
        "わかば",
        "あおば",
        "もみじ",
    ];
    let mut out = Vec::new();
    for (t, n, prefix, suffix) in wanted {
        for i in 0..n {
            let (code, name) = if from_roster {
                let (c, name) = roster[t][i].clone();
                let name = if name.is_empty() {
                    format!("{}{suffix}", towns[i])
                } else {
                    name
                };
                (c, name)
            } else {
                (
                    format!("{prefix}{:02}", i + 11),
                    format!("{}{suffix}", towns[i]),
                )
            };
            out.push(Facility {
                code,
                kind: t,
                name,
            });
        }
    }
    (
        out,
        if from_roster {
            "taken from the official lists in `fixtures/roster/` (届出受理医療機関名簿, 介護サービス情報公表), \
             so importing the roster fixtures first matches every row"
        } else {
            "invented (no roster fixtures found)"
        },
    )
}

/// A canonical answer: what the reply means, before a layout spells it.
#[derive(Clone, Debug)]
enum Ans {
    Blank,
    Code(String),
    Codes(Vec<String>),
    YesNo(bool),
    Int(i64),
    Dec(f64),
    Text(String),
}

fn gen_reply(s: &Survey, fac: &Facility, rng: &mut Rng) -> BTreeMap<String, Ans> {
    let mut out = BTreeMap::new();
    for f in s.fields() {
        let q = f.question;
        let key = f.key();
        let a = match f.kind {
            FieldKind::Single => Ans::Code(
                q.options[rng.below(q.options.len() as u64) as usize]
                    .code
                    .clone(),
            ),
            FieldKind::Multiple => {
                let plain: Vec<&str> = q
                    .options
                    .iter()
                    .filter(|o| !o.exclusive)
                    .map(|o| o.code.as_str())
                    .collect();
                let excl = q.options.iter().find(|o| o.exclusive);
                if let Some(excl) = excl.filter(|_| rng.chance(10)) {
                    Ans::Codes(vec![excl.code.clone()])
                } else {
                    let n = 1 + rng.below(3) as usize;
                    let mut picked: Vec<usize> = (0..n)
                        .map(|_| rng.below(plain.len() as u64) as usize)
                        .collect();
                    picked.sort_unstable();
                    picked.dedup();
                    Ans::Codes(picked.into_iter().map(|i| plain[i].to_owned()).collect())
                }
            }
            FieldKind::YesNo => Ans::YesNo(rng.chance(60)),
            FieldKind::Count => {
                let max = if f.part.is_some() && q.kind.is_choice() {
                    20.0
                } else {
                    q.max.unwrap_or(99.0)
                };
                Ans::Int(rng.below((max as u64).min(40) + 1) as i64)
            }
            FieldKind::Decimal => Ans::Dec(rng.below(80) as f64 / 2.0),
            FieldKind::Text => Ans::Text(text_for(&f, fac, rng)),
        };
        // Write-ins are only written when their option is chosen.
        let a = match (&a, f.part, q.kind.is_choice()) {
            (_, Some(part), true) => match out.get(&q.id) {
                Some(Ans::Code(c)) if c == part => a,
                Some(Ans::Codes(cs)) if cs.iter().any(|c| c == part) => a,
                _ => Ans::Blank,
            },
            _ => a,
        };
        out.insert(key, a);
    }
    out
}

fn text_for(f: &Field<'_>, fac: &Facility, rng: &mut Rng) -> String {
    let q = f.question;
    let tail = 1000 + rng.below(9000);
    match (q.prefill, f.part) {
        (Some(capsurvey_survey::Prefill::Name), _) => fac.name.clone(),
        (Some(capsurvey_survey::Prefill::Address), _) => format!(
            "東京都世田谷区太子堂{}-{}-{}",
            1 + rng.below(5),
            1 + rng.below(20),
            1 + rng.below(9)
        ),
        (Some(capsurvey_survey::Prefill::Phone), _) => format!("03-3{:03}-{tail}", rng.below(1000)),
        (Some(capsurvey_survey::Prefill::Fax), _) => format!("03-3{:03}-{tail}", rng.below(1000)),
        (Some(capsurvey_survey::Prefill::Code), _) => fac.code.clone(),
        (None, Some("title")) => {
            ["院長", "事務長", "管理者", "看護師長"][rng.below(4) as usize].to_owned()
        }
        (None, Some("name")) => {
            ["山田 花子", "佐藤 太郎", "鈴木 一郎", "高橋 直子"][rng.below(4) as usize].to_owned()
        }
        (None, Some("phone")) => format!("03-5{:03}-{tail}", rng.below(1000)),
        (None, Some("email")) => format!("info{}@example.jp", rng.below(100)),
        _ if q.kind == QuestionKind::LongText => [
            "特になし",
            "訪問の依頼が増えています。\n多職種の研修会を希望します。",
            "連携先の情報がほしい",
        ][rng.below(3) as usize]
            .to_owned(),
        _ => [
            "地域の歯科医師会",
            "太子堂・三軒茶屋",
            "平日9時から18時まで",
            "要相談",
        ][rng.below(4) as usize]
            .to_owned(),
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap(),
            '.' => '．',
            '-' => '－',
            _ => c,
        })
        .collect()
}

/// How a layout spells values.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// Codes, `;` between answers, はい/いいえ.
    Canonical,
    /// What a person types into Excel: labels, 「、」, ○/×, full-width digits.
    Excel,
    /// The question's own yes/no labels, `code.label` options, `,` between codes.
    Own,
}

fn spell(s: &Survey, key: &str, a: &Ans, style: Style) -> String {
    let f = s.fields().into_iter().find(|f| f.key() == key).unwrap();
    let q = f.question;
    let label = |c: &str| q.option(c).map(|o| o.label.clone()).unwrap_or_default();
    match (a, style) {
        (Ans::Blank, _) => String::new(),
        (Ans::Code(c), Style::Canonical) => c.clone(),
        (Ans::Code(c), Style::Excel) => label(c),
        (Ans::Code(c), Style::Own) => format!("{c}.{}", label(c)),
        (Ans::Codes(cs), Style::Canonical) => cs.join(";"),
        (Ans::Codes(cs), Style::Excel) => {
            cs.iter().map(|c| label(c)).collect::<Vec<_>>().join("、")
        }
        (Ans::Codes(cs), Style::Own) => cs.join(","),
        (Ans::YesNo(b), Style::Canonical) => if *b { "はい" } else { "いいえ" }.into(),
        (Ans::YesNo(b), Style::Excel) => if *b { "○" } else { "×" }.into(),
        (Ans::YesNo(b), Style::Own) => q.yes_no_labels()[if *b { 0 } else { 1 }].to_owned(),
        (Ans::Int(n), Style::Excel) => full_width(&n.to_string()),
        (Ans::Int(n), _) => n.to_string(),
        (Ans::Dec(x), Style::Excel) => full_width(&format!("{x:.1}")),
        (Ans::Dec(x), _) => format!("{x:.1}"),
        (Ans::Text(t), Style::Excel) => full_width(t),
        (Ans::Text(t), _) => t.clone(),
    }
}

/// The Japanese header of a field: the question text or 「問N」, with the item or option label.
fn label_header(s: &Survey, f: &Field<'_>, i: usize) -> String {
    let q = f.question;
    let number = s.number_of(&q.id).unwrap();
    match f.part {
        None if i.is_multiple_of(2) => q.text.clone(),
        None => format!("問{number}"),
        Some(p) if q.items.iter().any(|it| it.code == p) => {
            format!("問{number} {}", f.part_label().unwrap())
        }
        Some(_) => format!("問{number} {}（記入）", f.part_label().unwrap()),
    }
}

fn write_csv(path: &Path, rows: &[Vec<String>], delim: u8, crlf: bool) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delim)
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let _ = path;
    bytes
}

fn save(dir: &Path, name: &str, bytes: &[u8], index: &mut String, what: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let _ = writeln!(index, "| `{name}` | {what} |");
    eprintln!("wrote {}", path.display());
}

fn sjis(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable, "fixture text must be encodable in CP932");
    bytes.into_owned()
}

#[allow(dead_code)] // tests/fixtures.rs includes this file and calls `generate` only
fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("fixtures/replies"));
    generate(&out);
}

/// Writes every fixture into `out`.
pub fn generate(out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    let out = out.to_path_buf();
    let dental = survey("dental");
    let clinic = survey("homecare-clinic");
    let nurse = survey("visiting-nurse");
    let (facs, codes_from) = facilities();
    let of = |t: &str| {
        facs.iter()
            .filter(|f| f.kind == t)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (d, c, n) = (of("dental"), of("homecare-clinic"), of("visiting-nurse"));
    let mut index = String::new();

    // facilities.csv: the roster the tests load.
    let mut rows = vec![vec![
        "facility_code".to_owned(),
        "facility_type".into(),
        "name".into(),
    ]];
    rows.extend(
        facs.iter()
            .map(|f| vec![f.code.clone(), f.kind.to_owned(), f.name.clone()]),
    );
    save(
        &out,
        "roster/facilities.csv",
        &write_csv(&out, &rows, b',', false),
        &mut index,
        &format!(
            "the facilities these replies come from (codes: {codes_from}); tests load it as the roster"
        ),
    );

    // 1. dental, UTF-8 with BOM, field keys, CRLF (Excel's "CSV UTF-8"), with a survey column.
    let mut rng = Rng(0x5EED_0001);
    let ds = &dental.survey;
    let fields = ds.fields();
    let mut header = vec!["survey".to_owned(), "facility_code".to_owned()];
    header.extend(fields.iter().map(|f| f.key()));
    let mut rows = vec![header];
    for fac in &d[0..3] {
        let mut reply = gen_reply(ds, fac, &mut rng);
        if fac.code == d[0].code {
            // Known values for the supersede and conflict tests.
            reply.insert("q08".into(), Ans::Code("1".into()));
            reply.insert("q04.full".into(), Ans::Int(2));
        }
        let mut r = vec!["dental".to_owned(), fac.code.clone()];
        r.extend(
            fields
                .iter()
                .map(|f| spell(ds, &f.key(), &reply[&f.key()], Style::Canonical)),
        );
        rows.push(r);
    }
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(write_csv(&out, &rows, b',', true));
    save(
        &out,
        "dental-utf8bom-ids.csv",
        &bytes,
        &mut index,
        "dental, UTF-8 with BOM, CRLF, header of field keys (`q04.full`), a `survey` column, codes with `;` between answers",
    );

    // 2. dental, Shift_JIS from Excel, Japanese labels, full-width digits, ○/×.
    let mut header = vec!["施設コード".to_owned()];
    header.extend(
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| label_header(ds, f, i)),
    );
    let mut rows = vec![header];
    for fac in &d[3..5] {
        let reply = gen_reply(ds, fac, &mut rng);
        let mut r = vec![full_width(&fac.code)];
        r.extend(
            fields
                .iter()
                .map(|f| spell(ds, &f.key(), &reply[&f.key()], Style::Excel)),
        );
        rows.push(r);
    }
    let text = String::from_utf8(write_csv(&out, &rows, b',', true)).unwrap();
    save(
        &out,
        "dental-excel-sjis-labels.csv",
        &sjis(&text),
        &mut index,
        "dental, Shift_JIS (CP932) as Excel saves it, CRLF, Japanese headers (question text, 「問8」, 「問4 常勤」), option labels, 「、」, ○/×, full-width digits and codes",
    );

    // 3. homecare-clinic, tab-separated UTF-8, keys and 問 numbers, the question's own labels.
    let cs = &clinic.survey;
    let cfields = cs.fields();
    let mut rng = Rng(0x5EED_0003);
    let mut header = vec!["医療機関コード".to_owned()];
    header.extend(cfields.iter().enumerate().map(|(i, f)| {
        if i % 3 == 1 && f.part.is_none() {
            format!("問{}", cs.number_of(&f.question.id).unwrap())
        } else {
            f.key()
        }
    }));
    let mut rows = vec![header];
    for fac in &c[0..3] {
        let reply = gen_reply(cs, fac, &mut rng);
        let mut r = vec![fac.code.clone()];
        r.extend(
            cfields
                .iter()
                .map(|f| spell(cs, &f.key(), &reply[&f.key()], Style::Own)),
        );
        rows.push(r);
    }
    save(
        &out,
        "homecare-clinic-tab.tsv",
        &write_csv(&out, &rows, b'\t', false),
        &mut index,
        "homecare-clinic, UTF-8 without BOM, tab-separated, LF, keys and 「問N」, `1.個人`-style options, the questions' own yes/no labels (対応可/対応不可)",
    );

    // 4. visiting-nurse, one column per option for multiple choice.
    let ns = &nurse.survey;
    let nfields = ns.fields();
    let mut rng = Rng(0x5EED_0004);
    let ticks = ["○", "1", "✓", "レ"];
    let mut header = vec!["事業所番号".to_owned()];
    let mut cols: Vec<(String, Option<String>)> = Vec::new(); // (field key, option code for a tick column)
    for f in &nfields {
        if f.kind == FieldKind::Multiple {
            for o in &f.question.options {
                header.push(format!("{}_{}", f.question.id, o.code));
                cols.push((f.key(), Some(o.code.clone())));
            }
        } else {
            header.push(f.key());
            cols.push((f.key(), None));
        }
    }
    let mut rows = vec![header];
    for fac in &n[0..2] {
        let reply = gen_reply(ns, fac, &mut rng);
        let mut r = vec![fac.code.clone()];
        for (key, opt) in &cols {
            r.push(match (opt, &reply[key]) {
                (Some(o), Ans::Codes(cs)) if cs.contains(o) => {
                    ticks[rng.below(4) as usize].to_owned()
                }
                (Some(_), _) => {
                    if rng.chance(30) {
                        "0".into()
                    } else {
                        String::new()
                    }
                }
                (None, a) => spell(ns, key, a, Style::Canonical),
            });
        }
        rows.push(r);
    }
    save(
        &out,
        "visiting-nurse-option-columns.csv",
        &write_csv(&out, &rows, b',', false),
        &mut index,
        "visiting-nurse, UTF-8, one column per option of multiple-choice questions (`q03_1` … with ○, 1, ✓, レ or blank/0), write-ins as `q03.5`",
    );

    // 5. visiting-nurse workbook.
    let mut rng = Rng(0x5EED_0005);
    let mut wb = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 11, 20).unwrap();
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&date));
    let ws = wb.add_worksheet();
    ws.set_name("回答").unwrap();
    ws.write_string(0, 0, "事業所番号").unwrap();
    for (i, f) in nfields.iter().enumerate() {
        let h = match f.part {
            None => f.question.text.clone(),
            Some(_) if !f.question.items.is_empty() => {
                format!("{}・{}", f.question.text, f.part_label().unwrap())
            }
            Some(_) => f.key(),
        };
        ws.write_string(0, i as u16 + 1, h).unwrap();
    }
    for (r, fac) in n[2..5].iter().enumerate() {
        let row = r as u32 + 1;
        let reply = gen_reply(ns, fac, &mut rng);
        // Codes typed into Excel become numbers.
        match fac.code.parse::<f64>() {
            Ok(x) => ws.write_number(row, 0, x).unwrap(),
            Err(_) => ws.write_string(row, 0, &fac.code).unwrap(),
        };
        for (i, f) in nfields.iter().enumerate() {
            let col = i as u16 + 1;
            match &reply[&f.key()] {
                Ans::Blank => {}
                Ans::Int(v) => {
                    ws.write_number(row, col, *v as f64).unwrap();
                }
                Ans::Dec(v) => {
                    ws.write_number(row, col, *v).unwrap();
                }
                a => {
                    ws.write_string(row, col, spell(ns, &f.key(), a, Style::Canonical))
                        .unwrap();
                }
            }
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    save(
        &out,
        "visiting-nurse.xlsx",
        &bytes,
        &mut index,
        "visiting-nurse workbook: sheet 「回答」, question texts as headers (`text・item label` for items), codes and counts as number cells",
    );

    // 6. dental, messy values, a broken row, an unknown facility, a blank row.
    let messy_header = [
        "facility_code",
        "q01a",
        "q03",
        "q04.full",
        "q04.part",
        "q06",
        "q08",
        "q10.home",
        "q10.facility",
        "q11a",
        "q12",
        "q18a",
        "q26",
        "q28",
    ];
    let mut rows: Vec<Vec<String>> = vec![messy_header.iter().map(|s| s.to_string()).collect()];
    let row = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    rows.push(row(&[
        &d[5].code,
        &d[5].name,
        "医療法人",
        "５",
        "1",
        "在宅療養支援歯科診療所2、歯科訪問診療料の注13に規定する基準",
        "2",
        "1,234",
        "12人",
        "あり",
        "1;3;5",
        "○",
        "1",
        "特になし",
    ]));
    rows.push(row(&[
        &d[6].code,
        &d[6].name,
        "1、2",
        "−",
        "",
        "1\n3",
        "5",
        "120",
        "1,2",
        "×",
        "月・午前、火・午後",
        "✓",
        "掲載してよい",
        "訪問の依頼が\n増えています",
    ]));
    rows.push(row(&[&d[5].code, "欠けた行", "1"]));
    rows.push(row(&[
        "1399999999",
        "登録のない歯科",
        "1",
        "2",
        "0",
        "7",
        "3",
        "0",
        "0",
        "いいえ",
        "",
        "×",
        "2",
        "",
    ]));
    rows.push(row(&[
        "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    ]));
    rows.push(row(&[
        &d[8].code,
        &d[8].name,
        "3",
        "150",
        "2",
        "1;7",
        "訪問歯科診療を専門に行っている（外来患者が5%未満）",
        "30",
        "4",
        "−",
        "13、14",
        "対応不可",
        "2",
        "",
    ]));
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in &rows {
        w.write_record(r).unwrap();
    }
    save(
        &out,
        "dental-messy.csv",
        &w.into_inner().unwrap(),
        &mut index,
        "dental, UTF-8: labels for codes (医療法人), ５, 1,234 (out of range), 12人, あり/×/○/✓, 「−」, two answers to a single choice, an unknown option, 1,2 (not a number), an exclusive option with others, 150 (out of range), line breaks inside values, a row with 3 cells, an unknown facility, a blank row",
    );

    // 7. dental, cut off inside a quoted value.
    let mut rng = Rng(0x5EED_0007);
    let mut header = vec!["facility_code".to_owned()];
    header.extend(fields.iter().map(|f| f.key()));
    let reply = gen_reply(ds, &d[7], &mut rng);
    let mut r = vec![d[7].code.clone()];
    r.extend(
        fields
            .iter()
            .map(|f| spell(ds, &f.key(), &reply[&f.key()], Style::Canonical)),
    );
    let last = r.len() - 1;
    r[last] = "訪問の依頼が増えています。\n研修会を、ぜひ開いてください".into();
    let full = write_csv(&out, &[header, r], b',', true);
    let cut = full.len() - 20;
    let text = String::from_utf8_lossy(&full[..cut])
        .trim_end_matches('\u{FFFD}')
        .to_owned();
    save(
        &out,
        "dental-truncated.csv",
        text.as_bytes(),
        &mut index,
        "dental, cut off inside a quoted comment (the last value opens a quote that never closes): the whole file is refused",
    );

    // 8. A newer reply from the first dental facility (imported after file 1: supersedes).
    let mut rng = Rng(0x5EED_0008);
    let mut reply = gen_reply(ds, &d[0], &mut rng);
    reply.insert("q08".into(), Ans::Code("2".into()));
    reply.insert("q04.full".into(), Ans::Int(3));
    let keys = ["q01a", "q04.full", "q04.part", "q08", "q26"];
    let mut rows = vec![
        std::iter::once("facility_code".to_owned())
            .chain(keys.iter().map(|k| k.to_string()))
            .collect::<Vec<_>>(),
    ];
    let mut r = vec![d[0].code.clone()];
    r.extend(
        keys.iter()
            .map(|k| spell(ds, k, &reply[*k], Style::Canonical)),
    );
    rows.push(r);
    save(
        &out,
        "later/dental-correction.csv",
        &write_csv(&out, &rows, b',', true),
        &mut index,
        "a newer reply from the first facility of `dental-utf8bom-ids.csv` (q08 1 → 2, q04.full 2 → 3): import it after that file and it supersedes, keeping history",
    );

    // 9. A consultant's batch in its own layout, with its mapping file.
    let mut rng = Rng(0x5EED_0009);
    let foreign = [
        ("医療機関CD", "facility_code"),
        ("医療機関名", "q01a"),
        ("種別", "q02"),
        ("在支診区分", "q03"),
        ("連携先数", "q03.2"),
        ("訪問診療", "q07"),
        ("患者数（居宅）", "q08.home"),
        ("患者数（施設）", "q08.facility"),
        ("看取り", "q14"),
        ("訪問可能曜日", "q25b"),
        ("掲載", "q30a"),
        ("入力日", "ignore"),
    ];
    let mut rows = vec![
        foreign
            .iter()
            .map(|(h, _)| h.to_string())
            .collect::<Vec<_>>(),
    ];
    let say_visit = ["定期訪問あり", "定期訪問あり", "実施していない"];
    for fac in &c[3..5] {
        let reply = gen_reply(cs, fac, &mut rng);
        let mut r = Vec::new();
        for (_, key) in &foreign {
            r.push(match *key {
                "facility_code" => fac.code.clone(),
                "ignore" => "2024/11/25".into(),
                "q07" => say_visit[rng.below(3) as usize].to_owned(),
                "q14" => if rng.chance(50) { "可" } else { "不可" }.into(),
                "q03" => "2".into(),
                "q03.2" => "3".into(),
                k => spell(cs, k, &reply[k], Style::Excel),
            });
        }
        rows.push(r);
    }
    save(
        &out,
        "foreign/consultant-batch.csv",
        &write_csv(&out, &rows, b',', true),
        &mut index,
        "homecare-clinic, a consultant's own layout (医療機関CD, 訪問診療 = 定期訪問あり …): import with `--mapping foreign/consultant-batch.mapping.toml`",
    );
    let mut mapping = String::from(
        "# Mapping for foreign/consultant-batch.csv (format: docs/replies-format.md).\n\
         survey = \"homecare-clinic\"\n\n[columns]\n",
    );
    for (h, k) in &foreign {
        let _ = writeln!(mapping, "\"{h}\" = \"{k}\"");
    }
    mapping.push_str(
        "\n[values]\n\
         # Their spellings of our options.\n\
         q07 = { \"定期訪問あり\" = \"1\", \"実施していない\" = \"3\" }\n\
         \"*\" = { \"可\" = \"yes\", \"不可\" = \"no\" }\n",
    );
    save(
        &out,
        "foreign/consultant-batch.mapping.toml",
        mapping.as_bytes(),
        &mut index,
        "the mapping file for the consultant's batch: columns to keys, their value spellings to option codes",
    );

    let readme = format!(
        "# Reply-file fixtures\n\n\
         Written by `cargo run -p capsurvey-tabular --example make-reply-fixtures`; do not edit by hand.\n\
         Formats and conventions: `docs/replies-format.md`.\n\n\
         Importing every file of this folder (not the subfolders) stores the replies of 16 facilities;\n\
         `dental-messy.csv` reports a broken row and an unknown facility and sends 6 values to review;\n\
         `dental-truncated.csv` is refused as a whole.\n\n\
         | file | what it is |\n|---|---|\n{index}"
    );
    std::fs::write(out.join("README.md"), readme).unwrap();
}
