//! Test support: a strict reader of the Prometheus text exposition format (0.0.4), enough to
//! check a scrape is well formed and to read its values.
//!
//! Checked: every sample belongs to a family whose `# TYPE` came first (histogram samples by
//! their `_bucket`, `_sum` and `_count` suffixes), names and label names are valid, label values
//! are quoted with only `\\`, `\"` and `\n` escapes, no series appears twice, values are numbers
//! (or `+Inf`, `-Inf`, `NaN`), counters are not negative, and each histogram's buckets are
//! cumulative with `le="+Inf"` equal to its `_count`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

/// The labels of a series.
pub type Labels = BTreeMap<String, String>;

/// One histogram series: its buckets (upper bound, cumulative count), sum and count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// `(le, count)` in increasing `le`.
    pub buckets: Vec<(f64, f64)>,
    /// `_sum`.
    pub sum: f64,
    /// `_count`.
    pub count: f64,
}

/// A parsed scrape.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    /// Family name to its type.
    pub types: HashMap<String, String>,
    /// Sample name to its series.
    pub samples: BTreeMap<String, Vec<(Labels, f64)>>,
}

impl Scrape {
    /// Every series of a sample name.
    pub fn series(&self, name: &str) -> Vec<(Labels, f64)> {
        self.samples.get(name).cloned().unwrap_or_default()
    }

    /// The value of the series with exactly these labels.
    pub fn value(&self, name: &str, labels: &Labels) -> Option<f64> {
        self.samples
            .get(name)?
            .iter()
            .find(|(l, _)| l == labels)
            .map(|(_, v)| *v)
    }

    /// The histogram family `name` for the series with these labels (without `le`).
    pub fn histogram(&self, name: &str, labels: &Labels) -> Option<Histogram> {
        let mut buckets: Vec<(f64, f64)> = self
            .samples
            .get(&format!("{name}_bucket"))?
            .iter()
            .filter_map(|(l, v)| {
                let mut without = l.clone();
                let le = without.remove("le")?;
                (&without == labels).then(|| (parse_value(&le).ok().unwrap(), *v))
            })
            .collect();
        if buckets.is_empty() {
            return None;
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Some(Histogram {
            buckets,
            sum: self.value(&format!("{name}_sum"), labels)?,
            count: self.value(&format!("{name}_count"), labels)?,
        })
    }
}

/// Parses and checks a scrape.
pub fn parse(text: &str) -> Result<Scrape, String> {
    let mut scrape = Scrape::default();
    let mut seen = std::collections::HashSet::new();
    for (number, line) in text.lines().enumerate() {
        let at = |message: String| format!("line {}: {message}: {line}", number + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let keyword = parts.next().unwrap_or_default();
            let name = parts.next().ok_or_else(|| at("no metric name".into()))?;
            check_name(name).map_err(at)?;
            if keyword == "TYPE" {
                let kind = parts.next().unwrap_or_default();
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                    return Err(at(format!("unknown type `{kind}`")));
                }
                if scrape
                    .types
                    .insert(name.to_owned(), kind.to_owned())
                    .is_some()
                {
                    return Err(at("TYPE given twice".into()));
                }
            }
            continue;
        }
        let (name, labels, value) = parse_sample(line).map_err(at)?;
        let family = family_of(&scrape.types, &name)
            .ok_or_else(|| at(format!("`{name}` has no TYPE before it")))?;
        if scrape.types[&family] == "counter" && value < 0.0 {
            return Err(at("a counter is negative".into()));
        }
        if !seen.insert((name.clone(), labels.clone())) {
            return Err(at("series given twice".into()));
        }
        scrape
            .samples
            .entry(name)
            .or_default()
            .push((labels, value));
    }
    check_histograms(&scrape)?;
    Ok(scrape)
}

fn family_of(types: &HashMap<String, String>, name: &str) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (types.get(base).map(String::as_str) == Some("histogram")).then(|| base.to_owned())
    })
}

fn check_histograms(scrape: &Scrape) -> Result<(), String> {
    for (family, kind) in &scrape.types {
        if kind != "histogram" {
            continue;
        }
        let mut series: Vec<Labels> = scrape
            .series(&format!("{family}_bucket"))
            .into_iter()
            .map(|(mut labels, _)| {
                labels.remove("le");
                labels
            })
            .collect();
        series.dedup();
        for labels in series {
            let histogram = scrape
                .histogram(family, &labels)
                .ok_or_else(|| format!("{family} {labels:?}: no _sum or _count"))?;
            let counts: Vec<f64> = histogram.buckets.iter().map(|(_, n)| *n).collect();
            if counts.windows(2).any(|w| w[1] < w[0]) {
                return Err(format!("{family} {labels:?}: buckets not cumulative"));
            }
            if histogram.buckets.last().map(|b| b.0) != Some(f64::INFINITY)
                || counts.last() != Some(&histogram.count)
            {
                return Err(format!("{family} {labels:?}: +Inf bucket is not the count"));
            }
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = name.chars().enumerate().all(|(i, c)| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
    });
    if ok && !name.is_empty() {
        Ok(())
    } else {
        Err(format!("`{name}` is not a metric name"))
    }
}

fn parse_sample(line: &str) -> Result<(String, Labels, f64), String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let mut labels = Labels::new();
    let mut rest = &line[name_end..];
    if let Some(body) = rest.strip_prefix('{') {
        let mut at = body;
        loop {
            if let Some(after) = at.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = at.find('=').ok_or("label without `=`")?;
            let label = &at[..eq];
            if check_name(label).is_err() || label.contains(':') {
                return Err(format!("`{label}` is not a label name"));
            }
            let quoted = at[eq + 1..]
                .strip_prefix('"')
                .ok_or("label value not quoted")?;
            let mut value = String::new();
            let mut end = None;
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("bad escape {other:?}")),
                    },
                    c => value.push(c),
                }
            }
            let end = end.ok_or("unterminated label value")?;
            if labels.insert(label.to_owned(), value).is_some() {
                return Err(format!("label `{label}` given twice"));
            }
            at = &quoted[end..];
            if let Some(next) = at.strip_prefix(',') {
                at = next;
            } else if !at.starts_with('}') {
                return Err("labels not separated by `,`".into());
            }
        }
    }
    finish_sample(name, labels, rest)
}

fn finish_sample(name: &str, labels: Labels, rest: &str) -> Result<(String, Labels, f64), String> {
    let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let mut parts = rest.split(' ');
    let value = parse_value(parts.next().unwrap_or_default())?;
    if let Some(timestamp) = parts.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("bad timestamp `{timestamp}`"))?;
    }
    if parts.next().is_some() {
        return Err("text after the value".into());
    }
    Ok((name.to_owned(), labels, value))
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        other => other
            .parse::<f64>()
            .map_err(|_| format!("`{other}` is not a value")),
    }
}
