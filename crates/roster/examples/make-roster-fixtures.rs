//! Writes the roster fixtures: invented facilities of an invented city, 東京都みどり市, in the
//! real column layouts of the public lists, plus the city's own list and an area map.
//!
//! ```text
//! cargo run -p capsurvey-roster --example make-roster-fixtures [DIR]   # default: fixtures/roster
//! ```
//!
//! Deterministic: the same bytes on every run (no clock, no random numbers, a fixed creation
//! date in the workbooks), so the committed files can be checked against a fresh run
//! (crates/roster/tests/fixtures.rs does). Every name, address, code and number is invented.

use std::path::{Path, PathBuf};

/// Town names of みどり市 and the area (地区) each belongs to (緑ケ丘 3丁目 is 西, see the map).
pub const TOWNS: [(&str, &str); 10] = [
    ("本町", "中央"),
    ("栄町", "中央"),
    ("北野", "北"),
    ("桜台", "北"),
    ("南台", "南"),
    ("緑ケ丘", "南"),
    ("東原", "東"),
    ("若葉", "東"),
    ("西山", "西"),
    ("泉", "西"),
];

const PREFIXES: [&str; 20] = [
    "みどり",
    "さくら",
    "あおば",
    "ひかり",
    "いずみ",
    "わかば",
    "もみじ",
    "すずらん",
    "かえで",
    "つばき",
    "なのはな",
    "ひまわり",
    "こもれび",
    "ほたる",
    "しらかば",
    "あすなろ",
    "けやき",
    "やまぶき",
    "すみれ",
    "たんぽぽ",
];

/// ナビイ dental rows (36), clinic rows (42), care-service visiting-nurse rows (32).
pub const DENTAL_NAVII: usize = 36;
/// Clinics in the ナビイ clinic file.
pub const CLINIC_NAVII: usize = 42;
/// Stations in the 介護 file.
pub const STATIONS: usize = 32;
/// The ナビイ clinic row written with columns missing (it is not on the bureau list either).
pub const BROKEN_CLINIC: usize = 10;

/// Expected facilities after importing everything: dental 36 + 2 (bureau only) + 1 (local only);
/// clinics 41 + hospital + 1 (bureau only) + 1 (local only); stations 32 + 1 (local only).
pub const EXPECTED: [(&str, usize); 3] = [
    ("dental", 39),
    ("homecare-clinic", 44),
    ("visiting-nurse", 33),
];

/// The file names written, in the order they are best imported (any order gives the same roster).
pub const FILES: [&str; 6] = [
    "03-1_dental_facility_info_20260601.csv",
    "02-1_clinic_facility_info_20260601.csv",
    "jigyosho_130_midori_20260630.csv",
    "13_todokede_ika_r0711.xlsx",
    "13_todokede_shika_r0711.xlsx",
    "midori_local_roster.csv",
];

fn katakana(s: &str) -> String {
    s.chars()
        .map(|c| {
            if ('ぁ'..='ゖ').contains(&c) {
                char::from_u32(c as u32 + 0x60).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c),
            '-' => '－',
            _ => c,
        })
        .collect()
}

/// One invented facility.
#[derive(Debug, Clone)]
pub struct Facility {
    /// Name as ナビイ / the care list writes it.
    pub name: String,
    /// Katakana reading.
    pub kana: String,
    /// Index into [`TOWNS`].
    pub town: usize,
    /// 丁目, 番, 号.
    pub number: (usize, usize, usize),
    /// Phone and FAX.
    pub phone: String,
    /// FAX.
    pub fax: String,
}

impl Facility {
    fn new(name: String, kana: String, i: usize, salt: usize, phone_block: usize) -> Facility {
        let town = (i * 3 + salt) % TOWNS.len();
        let number = (1 + i % 3, 1 + (i * 5 + salt) % 19, 1 + (i * 11 + salt) % 23);
        let line = 1000 + i * 37 + salt;
        Facility {
            name,
            kana,
            town,
            number,
            phone: format!("042-9{phone_block}{}-{line:04}", i % 10),
            fax: format!("042-9{phone_block}{}-{:04}", i % 10, line + 1),
        }
    }

    /// 「東京都みどり市本町１丁目２番３号」, as ナビイ writes it.
    pub fn navii_address(&self) -> String {
        let (c, b, g) = self.number;
        let mut a = format!(
            "東京都みどり市{}{}丁目{}番{}号",
            TOWNS[self.town].0,
            full_width(&c.to_string()),
            full_width(&b.to_string()),
            full_width(&g.to_string())
        );
        if b % 4 == 0 {
            a += "　みどりビル２階";
        }
        a
    }

    /// 「みどり市本町1-2-3」, as the bureau writes it (緑ケ丘 as 緑ヶ丘).
    pub fn bureau_address(&self) -> String {
        let (c, b, g) = self.number;
        format!(
            "みどり市{}{c}-{b}-{g}",
            TOWNS[self.town].0.replace('ケ', "ヶ")
        )
    }

    /// The area the fixture map gives this address.
    pub fn area(&self) -> &'static str {
        if TOWNS[self.town].0 == "緑ケ丘" && self.number.0 == 3 {
            "西"
        } else {
            TOWNS[self.town].1
        }
    }

    fn postal(&self) -> String {
        format!("199-99{:02}", self.town + 1)
    }
}

/// Dental clinic `i` (0..38; 36 and 37 are only on the bureau list).
pub fn dental(i: usize) -> Facility {
    let suffix = ["歯科医院", "歯科クリニック"][i / 20 % 2];
    let kana = ["シカイイン", "シカクリニック"][i / 20 % 2];
    let p = PREFIXES[i % 20];
    Facility::new(
        format!("{p}{suffix}"),
        format!("{}{kana}", katakana(p)),
        i,
        0,
        1,
    )
}

/// Clinic `i` (0..43; 42 is only on the bureau list).
pub fn clinic(i: usize) -> Facility {
    let k = i / 20 % 3;
    let p = PREFIXES[(i + 5) % 20];
    let suffix = ["内科クリニック", "診療所", "在宅クリニック"][k];
    let kana = ["ナイカクリニック", "シンリョウジョ", "ザイタククリニック"][k];
    Facility::new(
        format!("{p}{suffix}"),
        format!("{}{kana}", katakana(p)),
        i,
        1,
        2,
    )
}

/// Visiting-nurse station `i` (0..32).
pub fn station(i: usize) -> Facility {
    let p = PREFIXES[(i + 11) % 20];
    let (name, kana) = if i < 20 {
        (
            format!("{p}訪問看護ステーション"),
            format!("{}ホウモンカンゴステーション", katakana(p)),
        )
    } else {
        let p = PREFIXES[(i + 3) % 20];
        (
            format!("訪問看護ステーション{p}"),
            format!("ホウモンカンゴステーション{}", katakana(p)),
        )
    };
    Facility::new(name, kana, i, 2, 5)
}

/// ナビイ ID of dental clinic `i` / clinic `i`.
pub fn navii_id(dental_file: bool, i: usize) -> String {
    format!("13{}990{:07}", if dental_file { 3 } else { 2 }, 100 + i)
}

/// 医療機関コード of dental clinic `i`.
pub fn dental_code(i: usize) -> String {
    format!("133{:07}", 20000 + i)
}

/// 医療機関コード of clinic `i` (the hospital is clinic 99).
pub fn clinic_code(i: usize) -> String {
    format!("131{:07}", 10000 + i)
}

/// 事業所番号 of station `i`.
pub fn station_code(i: usize) -> String {
    format!("13699{:05}", 100 + i)
}

/// Dental clinics on the bureau list: two of every three in ナビイ, and two new ones.
pub fn dental_on_bureau(i: usize) -> bool {
    i >= DENTAL_NAVII || i % 3 != 2
}

/// Clinics on the bureau list.
pub fn clinic_on_bureau(i: usize) -> bool {
    i >= CLINIC_NAVII || i % 3 != 1
}

/// Filings (受理届出名称, 受理記号) of dental clinic `i`.
pub fn dental_filings(i: usize) -> Vec<(&'static str, &'static str)> {
    let a = ("在宅療養支援歯科診療所１", "歯援診１");
    let b = ("在宅療養支援歯科診療所２", "歯援診２");
    let safe = ("歯科外来診療医療安全対策加算１", "外安全１");
    let oral = ("口腔管理体制強化加算", "口管強");
    match i % 4 {
        0 => vec![a, safe],
        1 => vec![b],
        2 => vec![b, oral, safe],
        _ => vec![oral],
    }
}

/// Filings of clinic `i`.
pub fn clinic_filings(i: usize) -> Vec<(&'static str, &'static str)> {
    let s1 = ("在宅療養支援診療所", "支援診１");
    let s2 = ("在宅療養支援診療所", "支援診２イ");
    let s3 = ("在宅療養支援診療所", "支援診３");
    let zai = (
        "在宅時医学総合管理料及び施設入居時等医学総合管理料",
        "在医総管",
    );
    let sou = ("在宅がん医療総合診療料", "在総");
    let gan = ("がん性疼痛緩和指導管理料", "がん疼");
    match i % 5 {
        0 => vec![s3, zai],
        1 => vec![s1, zai, sou],
        2 => vec![zai],
        3 => vec![s2, zai],
        _ => vec![gan],
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// ナビイ 施設票: UTF-8 with BOM, CRLF, header fully quoted, data quoted except the coordinates.
fn navii_csv(dental_file: bool) -> Vec<u8> {
    let mut header: Vec<String> = [
        "ID",
        "正式名称",
        "正式名称（フリガナ）",
        "略称",
        "略称（フリガナ）",
        "英語表記（ローマ字表記）",
        "機関区分",
        "都道府県コード",
        "市区町村コード",
        "所在地",
        "所在地座標（緯度）",
        "所在地座標（経度）",
        "案内用ホームページアドレス",
    ]
    .map(String::from)
    .to_vec();
    for d in ["月", "火", "水", "木", "金", "土", "日"] {
        header.push(format!("毎週決まった曜日に休診（{d}）"));
    }
    for w in 1..=5 {
        header.push(format!("決まった週に休診（定期週）第{w}週（曜日）"));
    }
    header.push("祝日に休診".into());
    header.push("その他の休診日（gw、お盆等）".into());
    if !dental_file {
        for b in [
            "一般病床",
            "療養病床（医療保険適用）",
            "療養病床（介護保険適用）",
            "精神病床",
            "結核病床",
            "感染症病床",
            "合計病床数",
        ] {
            header.push(b.into());
        }
    }
    let mut out = String::from("\u{FEFF}");
    out += &header
        .iter()
        .map(|h| quoted(h))
        .collect::<Vec<_>>()
        .join(",");
    out += "\r\n";
    let n = if dental_file {
        DENTAL_NAVII
    } else {
        CLINIC_NAVII
    };
    for i in 0..n {
        let f = if dental_file { dental(i) } else { clinic(i) };
        let (lat, long) = if i % 9 == 4 {
            ("0.0".to_owned(), "0.0".to_owned())
        } else {
            (
                format!(
                    "{:.6}",
                    35.68 + (f.town as f64) * 0.004 + (i as f64) * 0.0003
                ),
                format!("{:.6}", 139.38 + (i as f64) * 0.0007),
            )
        };
        let mut cells: Vec<String> = vec![
            quoted(&navii_id(dental_file, i)),
            quoted(&f.name),
            quoted(&f.kana),
            quoted(""),
            quoted(""),
            quoted(""),
            quoted(if dental_file { "3" } else { "2" }),
            quoted("13"),
            quoted("990"),
            quoted(&f.navii_address()),
            lat,
            long,
            quoted(""),
        ];
        // 休診 flags read the reverse of their names: 1 = open that day.
        for d in 0..7 {
            cells.push(quoted(if d == 6 || (d == 3 && i % 2 == 0) {
                "0"
            } else {
                "1"
            }));
        }
        for _ in 0..5 {
            cells.push(quoted(""));
        }
        cells.push(quoted("0"));
        cells.push(quoted(if i % 5 == 0 { "年末年始" } else { "" }));
        if !dental_file {
            for b in ["0", "0", "0", "0", "0", "0", "0"] {
                cells.push(quoted(b));
            }
        }
        if !dental_file && i == BROKEN_CLINIC {
            // A row cut short, as a hand edit in a spreadsheet leaves it.
            cells.truncate(12);
        }
        out += &cells.join(",");
        out += "\r\n";
    }
    out.into_bytes()
}

/// 介護サービス情報公表 CSV (jigyosho_130): UTF-8 with BOM, 24 columns.
fn kaigo_csv() -> Vec<u8> {
    let header = [
        "都道府県コード又は市町村コード",
        "No",
        "都道府県名",
        "市区町村名",
        "事業所名",
        "事業所名カナ",
        "サービスの種類",
        "住所",
        "方書（ビル名等）",
        "緯度",
        "経度",
        "電話番号",
        "FAX番号",
        "法人番号",
        "法人の名称",
        "事業所番号",
        "利用可能曜日",
        "利用可能曜日特記事項",
        "定員",
        "URL",
        "高齢者の方と障害者の方が同時一体的に利用できるサービス",
        "介護保険の通常の指定基準を満たしている",
        "障害福祉の通常の指定基準を満たしている",
        "備考",
    ];
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(header).expect("write to memory");
    for i in 0..STATIONS {
        let f = station(i);
        let (c, b, g) = f.number;
        let corp = format!("株式会社{}ケア", katakana(PREFIXES[i % 20]));
        let record = [
            "139904".to_owned(),
            (i + 1).to_string(),
            "東京都".into(),
            "みどり市".into(),
            f.name.clone(),
            f.kana.clone(),
            "訪問看護".into(),
            format!("東京都みどり市{}{c}-{b}-{g}", TOWNS[f.town].0),
            if i % 3 == 0 {
                format!("グリーンハイツ{}", 101 + i)
            } else {
                String::new()
            },
            format!("{:.6}", 35.69 + (f.town as f64) * 0.004),
            format!("{:.6}", 139.39 + (i as f64) * 0.0007),
            f.phone.clone(),
            f.fax.clone(),
            format!("{:013}", 4_012_345_678_900u64 + i as u64),
            corp,
            station_code(i),
            "月火水木金".into(),
            if i % 4 == 0 {
                "土曜は要相談".into()
            } else {
                String::new()
            },
            "0".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        w.write_record(&record).expect("write to memory");
    }
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend(w.into_inner().expect("flush to memory"));
    out
}

/// One facility on a bureau list: code, name as the bureau writes it, the facility, its filings
/// (受理届出名称, 受理記号) and 病床数.
type BureauEntry = (
    String,
    String,
    Facility,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

const BUREAU_HEADER: [&str; 24] = [
    "項番",
    "都道府県コード",
    "都道府県名",
    "区分",
    "医療機関番号",
    "併設医療機関番号",
    "医療機関記号番号",
    "医療機関名称",
    "郵便番号",
    "住所",
    "電話番号",
    "FAX番号",
    "病床数",
    "受理届出名称",
    "受理記号",
    "受理番号",
    "算定開始年月日",
    "個別有効開始年月日",
    "備考（見出し）",
    "備考（データ）",
    "市町村コード",
    "市町村名",
    "種別コード",
    "種別",
];

/// 届出受理医療機関名簿: title rows, header in Excel row 4, one row per filing.
fn bureau_xlsx(dental_list: bool) -> Vec<u8> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
    let mut book = Workbook::new();
    // A fixed creation date: otherwise the file changes on every run.
    let created = ExcelDateTime::from_ymd(2025, 11, 1).expect("valid date");
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let sheet = book.add_worksheet();
    sheet.set_name("東京都").expect("valid sheet name");
    let section = if dental_list { "歯科" } else { "医科" };
    let w =
        |r: std::result::Result<&mut rust_xlsxwriter::Worksheet, rust_xlsxwriter::XlsxError>| {
            r.expect("write cell");
        };
    w(sheet.write_string(0, 0, format!("届出受理医療機関名簿（{section}）")));
    w(sheet.write_string(1, 0, "［令和 7年11月 1日現在　東京都］"));
    for (c, h) in BUREAU_HEADER.iter().enumerate() {
        w(sheet.write_string(3, c as u16, *h));
    }
    let mut rows: Vec<BureauEntry> = Vec::new();
    if dental_list {
        for i in (0..DENTAL_NAVII + 2).filter(|&i| dental_on_bureau(i)) {
            let f = dental(i);
            let name = if i % 5 == 0 {
                format!(
                    "医療法人社団　{}会　{}",
                    ["緑風", "青葉", "桜"][i % 3],
                    f.name
                )
            } else {
                f.name.clone()
            };
            rows.push((dental_code(i), name, f, dental_filings(i), "0"));
        }
    } else {
        for i in (0..CLINIC_NAVII + 1).filter(|&i| clinic_on_bureau(i)) {
            let f = clinic(i);
            let name = f.name.clone();
            rows.push((clinic_code(i), name, f, clinic_filings(i), "0"));
        }
        let mut hospital = clinic(99);
        hospital.name = "みどり市民病院".into();
        rows.push((
            clinic_code(99),
            hospital.name.clone(),
            hospital,
            vec![
                ("在宅療養支援病院", "支援病３"),
                (
                    "在宅時医学総合管理料及び施設入居時等医学総合管理料",
                    "在医総管",
                ),
            ],
            "199",
        ));
    }
    let mut r = 4u32;
    for (code, name, f, filings, beds) in rows {
        for (n, (filing, symbol)) in filings.into_iter().enumerate() {
            let number = &code[3..];
            w(sheet.write_number(r, 0, f64::from(r - 3)));
            w(sheet.write_number(r, 1, 13.0));
            w(sheet.write_string(r, 2, "東京都"));
            w(sheet.write_string(r, 3, section));
            w(sheet.write_string(r, 4, number));
            w(sheet.write_string(
                r,
                6,
                format!("{},{},{}", &number[..2], &number[2..6], &number[6..]),
            ));
            w(sheet.write_string(r, 7, &name));
            w(sheet.write_string(r, 8, format!("〒{}", f.postal())));
            w(sheet.write_string(r, 9, f.bureau_address()));
            w(sheet.write_string(r, 10, &f.phone));
            w(sheet.write_string(r, 11, &f.fax));
            w(sheet.write_string(r, 12, beds));
            w(sheet.write_string(r, 13, filing));
            w(sheet.write_string(r, 14, format!("（{symbol}）")));
            w(sheet.write_string(r, 15, format!("第{}号", 10 + n + r as usize)));
            w(sheet.write_string(r, 16, format!("令和 {}年 {}月 1日", 4 + n, 4 + r % 8)));
            w(sheet.write_string(r, 20, "13990"));
            w(sheet.write_string(r, 21, "みどり市"));
            r += 1;
        }
    }
    book.save_to_buffer().expect("xlsx to memory")
}

/// The city's own list as Excel saves CSV in Japan: Shift_JIS (CP932), CRLF, full-width digits.
fn local_csv() -> Vec<u8> {
    let d3 = dental(3); // on the bureau list: the city knows its FAX changed
    let d2 = dental(2); // only in ナビイ: the city gives its 医療機関コード, which replaces N…
    let c5 = clinic(5);
    let s2 = station(2);
    let s7 = station(7);
    let rows: Vec<[String; 10]> = vec![
        [
            "コード",
            "種別",
            "名称",
            "カナ",
            "郵便番号",
            "住所",
            "電話",
            "FAX",
            "地区",
            "備考",
        ]
        .map(String::from),
        [
            dental_code(3),
            "歯科".into(),
            d3.name.clone(),
            String::new(),
            String::new(),
            d3.bureau_address(),
            full_width(&d3.phone),
            "０４２－９９９－０００３".into(),
            String::new(),
            "FAX番号変更（電話で確認）".into(),
        ],
        [
            dental_code(2),
            "歯科".into(),
            d2.name.clone(),
            String::new(),
            String::new(),
            d2.bureau_address(),
            full_width(&d2.phone),
            full_width(&d2.fax),
            String::new(),
            String::new(),
        ],
        [
            "Ｌ００１".into(),
            "歯科".into(),
            "髙橋デンタルオフィス".into(),
            "タカハシデンタルオフィス".into(),
            "〒１９９－９９０１".into(),
            "東京都みどり市本町２丁目５番８号".into(),
            "０４２－９１８－７７０１".into(),
            "０４２－９１８－７７０２".into(),
            String::new(),
            "訪問歯科専門".into(),
        ],
        [
            clinic_code(5),
            "診療所".into(),
            c5.name.clone(),
            String::new(),
            String::new(),
            c5.bureau_address(),
            String::new(),
            "０４２－９９９－０００５".into(),
            String::new(),
            String::new(),
        ],
        [
            "L002".into(),
            "診療所".into(),
            "みどり訪問診療所".into(),
            "ミドリホウモンシンリョウジョ".into(),
            "199-9903".into(),
            "みどり市北野３－１－１".into(),
            "042-928-7703".into(),
            "042-928-7704".into(),
            String::new(),
            String::new(),
        ],
        [
            station_code(2),
            "訪問看護".into(),
            s2.name.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "０４２－９９９－００２２".into(),
            "北".into(),
            "地区は市の判断".into(),
        ],
        [
            "L003".into(),
            "訪問看護".into(),
            "㈱みどりケア訪問看護ステーション".into(),
            "ミドリケアホウモンカンゴステーション".into(),
            "199-9910".into(),
            "みどり市泉３－７－２".into(),
            "０４２－９５８－７７０５".into(),
            "０４２－９５８－７７０６".into(),
            String::new(),
            "令和7年開設".into(),
        ],
        // The station the care list has as s7, written differently: merges on its phone number.
        [
            "L004".into(),
            "訪問看護".into(),
            format!("{}（サテライト含む）", s7.name),
            String::new(),
            String::new(),
            String::new(),
            full_width(&s7.phone),
            String::new(),
            String::new(),
            String::new(),
        ],
        [
            "L005".into(),
            "訪問看護".into(),
            String::new(),
            String::new(),
            String::new(),
            "みどり市泉１－１－１".into(),
            "042-958-0000".into(),
            String::new(),
            String::new(),
            "名称未記入".into(),
        ],
    ];
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                if c.contains([',', '"']) {
                    quoted(c)
                } else {
                    c.clone()
                }
            })
            .collect();
        text += &cells.join(",");
        text += "\r\n";
    }
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(
        !unmappable,
        "every character of the local list exists in CP932"
    );
    bytes.into_owned()
}

/// The area map for みどり市: town prefixes (some with the city, some without), a 丁目 that
/// belongs to another area than its town, and one facility placed by code.
fn area_map() -> Vec<u8> {
    let mut s = String::from(
        "# みどり市（架空）の地区割り。住所の前方一致（一番長く一致したもの）か施設コードで地区を決める。\n\
         # 種類: 住所 = 住所の先頭（市名から、または町名から）, コード = 施設コード\n\
         種類,キー,地区\n",
    );
    for (i, (town, area)) in TOWNS.iter().enumerate() {
        if i % 2 == 0 {
            s += &format!("住所,みどり市{town},{area}\n");
        } else {
            s += &format!("住所,{town},{area}\n");
        }
    }
    s += "住所,緑ケ丘３丁目,西\n";
    s += &format!("コード,{},東\n", clinic_code(0));
    s.into_bytes()
}

const README: &str = "# Roster fixtures (invented)

Written by `cargo run -p capsurvey-roster --example make-roster-fixtures`; do not edit by hand
(crates/roster/tests/fixtures.rs checks that they match a fresh run). Every facility, name,
address, code, phone and FAX number here is invented: 東京都みどり市 does not exist, and the
numbers are not to be dialled.

| file | layout | what it exercises |
|---|---|---|
| `03-1_dental_facility_info_20260601.csv` | ナビイ 施設票 (dental, 機関区分 3) | UTF-8 BOM, CRLF, quoted data but unquoted coordinates, full-width addresses, 0.0/0.0 coordinates |
| `02-1_clinic_facility_info_20260601.csv` | ナビイ 施設票 (clinic, 機関区分 2, bed columns) | as above; line 12 (clinic 10) is cut short and must be reported |
| `jigyosho_130_midori_20260630.csv` | 介護サービス情報公表 (24 columns) | 事業所番号 as the code, phone and FAX, 方書 |
| `13_todokede_ika_r0711.xlsx` | 届出受理医療機関名簿 (医科) | title rows, header in row 4, several filing rows per clinic, a hospital and a clinic not in ナビイ |
| `13_todokede_shika_r0711.xlsx` | 届出受理医療機関名簿 (歯科) | as above; corporations in front of names (医療法人社団 … 会), 緑ヶ丘 for 緑ケ丘 |
| `midori_local_roster.csv` | the city's own list (docs/roster-format.md) | CP932, ㈱ and 髙, full-width digits and codes, local areas, a station matched by phone, line 10 without a name |
| `area-map.csv` | area map | town prefixes with and without the city, 緑ケ丘３丁目 → 西 (longest prefix), one code entry |

Import them all (in any order) and the roster holds 39 dental clinics, 44 clinics and hospitals
and 33 visiting-nurse stations, with two rows reported as errors.
";

/// Writes every fixture into `dir` and returns the paths written.
pub fn generate(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files: [(&str, Vec<u8>); 8] = [
        (FILES[0], navii_csv(true)),
        (FILES[1], navii_csv(false)),
        (FILES[2], kaigo_csv()),
        (FILES[3], bureau_xlsx(false)),
        (FILES[4], bureau_xlsx(true)),
        (FILES[5], local_csv()),
        ("area-map.csv", area_map()),
        ("README.md", README.as_bytes().to_vec()),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        written.push(path);
    }
    Ok(written)
}

#[allow(dead_code)]
fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/roster"));
    for path in generate(&dir)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}
