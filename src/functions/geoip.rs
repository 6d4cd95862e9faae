//! Places behind addresses, from MaxMind-format databases (`.mmdb`:
//! GeoLite2 and GeoIP2 Country, City and ASN, DB-IP's and others in that
//! format) given with `--geoip FILE`, read by the `maxminddb` crate:
//!
//! - `geoip_country(ip)`: the country's ISO code (`DE`);
//! - `geoip_city(ip)`: the city's English name;
//! - `geoip_asn(ip)`: the autonomous system's number;
//! - `geoip_org(ip)`: the organisation behind that system;
//! - `geoip_latitude(ip)`, `geoip_longitude(ip)`: the coordinates a City
//!   database gives (of the city, or of the country's middle where it
//!   knows no city), and `geoip_accuracy_km(ip)` the radius around them
//!   the address is likely in (NULL where the database gives none);
//! - `geoip_database(ip)`: the file name of the first database that holds
//!   the address; `geoip_database(ip, 'country' | 'city' | 'asn' | 'org' |
//!   'location')`: of the database that answered that question.
//!
//! Each database is asked in the order given until one answers. NULL for
//! what is no IP address (`ec2.amazonaws.com`, `AWS Internal`), for private,
//! loopback and link-local ranges, and for an address no database holds.
//! Without a database the functions fail, saying how to get one: trailsql
//! ships none and downloads nothing.
//!
//! It imports nothing of trailsql outside `functions/`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use maxminddb::{PathElement, Reader};

/// The databases of a session, in the order given.
#[derive(Default)]
pub struct Databases {
    readers: Vec<(PathBuf, Reader<Vec<u8>>)>,
}

impl std::fmt::Debug for Databases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let paths: Vec<_> = self.readers.iter().map(|(p, _)| p).collect();
        f.debug_struct("Databases").field("paths", &paths).finish()
    }
}

impl Databases {
    /// Open every file, or say which one is no MaxMind database.
    pub fn open(paths: &[PathBuf]) -> std::result::Result<Databases, String> {
        let mut readers = Vec::new();
        for p in paths {
            let reader = Reader::open_readfile(p).map_err(|e| {
                format!(
                    "--geoip {}: not a MaxMind-format (.mmdb) database: {e}",
                    p.display()
                )
            })?;
            readers.push((p.clone(), reader));
        }
        Ok(Databases { readers })
    }

    /// The first answer to `path` for `ip`, of type `T`.
    fn first<T: serde::de::DeserializeOwned>(&self, ip: IpAddr, path: &[PathElement]) -> Option<T> {
        self.answer(ip, path).map(|(t, _)| t)
    }

    /// The first answer to `path` for `ip`, with the file that gave it.
    fn answer<T: serde::de::DeserializeOwned>(
        &self,
        ip: IpAddr,
        path: &[PathElement],
    ) -> Option<(T, &Path)> {
        self.readers.iter().find_map(|(file, r)| {
            let found = r.lookup(ip).ok()?;
            let t = found.decode_path::<T>(path).ok().flatten()?;
            Some((t, file.as_path()))
        })
    }
}

/// Where each question is answered in GeoLite2's (and DB-IP's) layout.
fn path_of(part: Part) -> &'static [PathElement<'static>] {
    use PathElement::Key;
    match part {
        Part::Country => &[Key("country"), Key("iso_code")],
        Part::City => &[Key("city"), Key("names"), Key("en")],
        Part::Asn => &[Key("autonomous_system_number")],
        Part::Org => &[Key("autonomous_system_organization")],
        Part::Latitude | Part::Database => &[Key("location"), Key("latitude")],
        Part::Longitude => &[Key("location"), Key("longitude")],
        Part::AccuracyKm => &[Key("location"), Key("accuracy_radius")],
    }
}

/// A file's name, as `geoip_database` gives it.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Country,
    City,
    Asn,
    Org,
    Latitude,
    Longitude,
    AccuracyKm,
    Database,
}

/// The functions, by name and question.
const FUNCTIONS: [(&str, Part); 8] = [
    ("geoip_country", Part::Country),
    ("geoip_city", Part::City),
    ("geoip_asn", Part::Asn),
    ("geoip_org", Part::Org),
    ("geoip_latitude", Part::Latitude),
    ("geoip_longitude", Part::Longitude),
    ("geoip_accuracy_km", Part::AccuracyKm),
    ("geoip_database", Part::Database),
];

/// The names of the functions (for a session that copies them).
pub fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|(name, _)| *name)
}

/// The functions over `databases`.
pub fn udfs(databases: Arc<Databases>) -> Vec<ScalarUDF> {
    FUNCTIONS
        .into_iter()
        .map(|(name, part)| {
            let signature = if part == Part::Database {
                Signature::one_of(
                    vec![TypeSignature::Any(1), TypeSignature::Any(2)],
                    Volatility::Immutable,
                )
            } else {
                Signature::any(1, Volatility::Immutable)
            };
            ScalarUDF::from(GeoIp {
                name,
                part,
                databases: databases.clone(),
                signature,
            })
        })
        .collect()
}

#[derive(Debug)]
struct GeoIp {
    name: &'static str,
    part: Part,
    databases: Arc<Databases>,
    signature: Signature,
}

impl PartialEq for GeoIp {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.databases, &other.databases)
    }
}
impl Eq for GeoIp {}
impl std::hash::Hash for GeoIp {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

/// An address a database can place: public, unicast.
pub fn public_address(text: &str) -> Option<IpAddr> {
    let ip: IpAddr = text.trim().parse().ok()?;
    let public = match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
                || v4.is_multicast())
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    };
    public.then_some(ip)
}

impl ScalarUDFImpl for GeoIp {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.part {
            Part::Asn | Part::AccuracyKm => DataType::Int64,
            Part::Latitude | Part::Longitude => DataType::Float64,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let dbs = &self.databases;
        if dbs.readers.is_empty() {
            return exec_err!(
                "{} needs a MaxMind-format database: give one with --geoip FILE \
                 (GeoLite2-Country.mmdb, -City or -ASN, free from MaxMind with an account; \
                 or DB-IP's free IP-to-Country/City/ASN Lite databases in .mmdb). \
                 trailsql ships none and downloads nothing",
                self.name
            );
        }
        let (arrays, scalar) = super::json::arrays(&args.args)?;
        let text = cast(&arrays[0], &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let path = path_of(self.part);
        let out: ArrayRef = match self.part {
            Part::Country | Part::City | Part::Org => {
                Arc::new(StringArray::from(per_address(text, |ip| {
                    dbs.first::<String>(ip, path)
                })))
            }
            Part::Asn | Part::AccuracyKm => Arc::new(Int64Array::from(per_address(text, |ip| {
                dbs.first::<u32>(ip, path).map(i64::from)
            }))),
            Part::Latitude | Part::Longitude => {
                Arc::new(Float64Array::from(per_address(text, |ip| {
                    dbs.first::<f64>(ip, path)
                })))
            }
            Part::Database => {
                let asked = match arrays.get(1) {
                    None => None,
                    Some(a) => Some(asked_part(a)?),
                };
                Arc::new(StringArray::from(per_address(text, |ip| {
                    match asked {
                        Some(Part::Asn) => dbs.answer::<u32>(ip, path_of(Part::Asn)).map(|a| a.1),
                        Some(Part::Latitude) => {
                            dbs.answer::<f64>(ip, path_of(Part::Latitude)).map(|a| a.1)
                        }
                        Some(part) => dbs.answer::<String>(ip, path_of(part)).map(|a| a.1),
                        None => dbs.readers.iter().find_map(|(path, r)| {
                            r.lookup(ip).ok()?.has_data().then_some(path.as_path())
                        }),
                    }
                    .map(file_name)
                })))
            }
        };
        super::json::columnar(out, scalar)
    }
}

/// `answer` for each row's address (NULL where the text is no public
/// address), each distinct text asked once: a batch of calls holds few
/// addresses, each many times over.
fn per_address<'a, T: Clone>(
    text: &'a StringArray,
    answer: impl Fn(IpAddr) -> Option<T>,
) -> Vec<Option<T>> {
    let mut known: HashMap<&'a str, Option<T>> = HashMap::new();
    (0..text.len())
        .map(|i| {
            if text.is_null(i) {
                return None;
            }
            let t = text.value(i);
            known
                .entry(t)
                .or_insert_with(|| public_address(t).and_then(&answer))
                .clone()
        })
        .collect()
}

/// The question `geoip_database(ip, question)` names: one text for all rows.
fn asked_part(a: &ArrayRef) -> Result<Part> {
    let text = cast(a, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    let mut names = (0..text.len())
        .filter(|&i| text.is_valid(i))
        .map(|i| text.value(i));
    let Some(first) = names.next() else {
        return exec_err!("geoip_database(ip, question): the question is NULL");
    };
    if names.any(|n| n != first) {
        return exec_err!(
            "geoip_database(ip, question): the question must be one text, such as 'asn'"
        );
    }
    Ok(match first.to_ascii_lowercase().as_str() {
        "country" => Part::Country,
        "city" => Part::City,
        "asn" => Part::Asn,
        "org" => Part::Org,
        "location" => Part::Latitude,
        other => {
            return exec_err!(
                "geoip_database(ip, '{other}'): the question is one of 'country', 'city', 'asn', 'org', 'location'"
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_placed() {
        for no in [
            "ec2.amazonaws.com",
            "AWS Internal",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "fd00::1",
            "fe80::1",
            "::1",
            "",
        ] {
            assert_eq!(public_address(no), None, "{no}");
        }
        for yes in ["8.8.8.8", "81.2.69.160", "2a02:810d::1"] {
            assert!(public_address(yes).is_some(), "{yes}");
        }
    }
}
