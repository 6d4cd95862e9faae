//! The sample's own places database, `sample-places.mmdb`: a MaxMind-format
//! file (the format GeoLite2 and DB-IP publish, documented by MaxMind as
//! "MaxMind DB File Format Specification" 2.0) that places the sample's
//! addresses, for `--geoip`. The sample's public addresses are in the
//! documentation ranges (RFC 5737), which no real database places, so a
//! sample without its own database could show no country at all. Its
//! places are made up for the sample, and its description says so.
//!
//! Written here, byte by byte: a binary search tree over the address bits
//! (IPv6, IPv4 under `::/96` as the readers look it up; 24-bit records),
//! sixteen zero bytes, the data section (one map per network), then the
//! metadata marker and map.
//!
//! It imports nothing of trailsql outside `sample/`.

use std::net::Ipv4Addr;

/// The file `trailsql sample` writes beside `AWSLogs/`.
pub const FILE: &str = "sample-places.mmdb";

/// A network of the sample, and where the sample puts it.
struct Place {
    network: (Ipv4Addr, u8),
    country: (&'static str, &'static str),
    city: &'static str,
    location: (f64, f64, u16),
    asn: (u32, &'static str),
}

/// The sample's public networks: the offices and homes its people work
/// from (Germany), and the hosting network its intruder comes from
/// (Brazil).
const PLACES: [Place; 3] = [
    Place {
        network: (Ipv4Addr::new(198, 51, 100, 0), 24),
        country: ("DE", "Germany"),
        city: "Berlin",
        location: (52.52, 13.40, 20),
        asn: (64496, "Example Office Network"),
    },
    Place {
        network: (Ipv4Addr::new(192, 0, 2, 0), 24),
        country: ("DE", "Germany"),
        city: "Hamburg",
        location: (53.55, 9.99, 50),
        asn: (64497, "Example Home Broadband"),
    },
    Place {
        network: (Ipv4Addr::new(203, 0, 113, 0), 24),
        country: ("BR", "Brazil"),
        city: "Sao Paulo",
        location: (-23.55, -46.63, 100),
        asn: (64511, "Example Hosting"),
    },
];

/// A value of the format's data section.
enum Datum {
    Text(String),
    Double(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(&'static str, Datum)>),
    Array(Vec<Datum>),
}

fn text(s: &str) -> Datum {
    Datum::Text(s.to_string())
}

/// The control byte(s) of a field: its type and size.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if kind <= 7 {
        out.push(kind << 5 | bits);
    } else {
        out.push(bits);
        out.push(kind - 7);
    }
    out.extend(extra);
}

/// An unsigned integer: big-endian, without leading zero bytes.
fn unsigned(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    control(out, kind, bytes.len() - first);
    out.extend(&bytes[first..]);
}

fn encode(d: &Datum, out: &mut Vec<u8>) {
    match d {
        Datum::Text(s) => {
            control(out, 2, s.len());
            out.extend(s.as_bytes());
        }
        Datum::Double(x) => {
            control(out, 3, 8);
            out.extend(x.to_be_bytes());
        }
        Datum::U16(v) => unsigned(out, 5, u64::from(*v)),
        Datum::U32(v) => unsigned(out, 6, u64::from(*v)),
        Datum::U64(v) => unsigned(out, 9, *v),
        Datum::Map(pairs) => {
            control(out, 7, pairs.len());
            for (k, v) in pairs {
                encode(&text(k), out);
                encode(v, out);
            }
        }
        Datum::Array(items) => {
            control(out, 11, items.len());
            for v in items {
                encode(v, out);
            }
        }
    }
}

/// What a network's record holds, in GeoLite2-City's and -ASN's layout
/// together.
fn record(p: &Place) -> Datum {
    let names = |s: &str| Datum::Map(vec![("en", text(s))]);
    Datum::Map(vec![
        ("autonomous_system_number", Datum::U32(p.asn.0)),
        ("autonomous_system_organization", text(p.asn.1)),
        ("city", Datum::Map(vec![("names", names(p.city))])),
        (
            "country",
            Datum::Map(vec![
                ("iso_code", text(p.country.0)),
                ("names", names(p.country.1)),
            ]),
        ),
        (
            "location",
            Datum::Map(vec![
                ("accuracy_radius", Datum::U16(p.location.2)),
                ("latitude", Datum::Double(p.location.0)),
                ("longitude", Datum::Double(p.location.1)),
            ]),
        ),
    ])
}

/// Where a record of the tree leads.
#[derive(Clone, Copy)]
enum Next {
    Nothing,
    Node(usize),
    Data(usize),
}

/// The database's bytes; `built` (seconds since 1970) is its build time,
/// given so that one seed gives one archive.
pub fn database(built: u64) -> Vec<u8> {
    let mut data = Vec::new();
    let mut tree: Vec<[Next; 2]> = vec![[Next::Nothing; 2]];
    for p in &PLACES {
        let offset = data.len();
        encode(&record(p), &mut data);
        let (ip, len) = p.network;
        let bits = u128::from(u32::from(ip));
        let depth = 96 + usize::from(len);
        let mut node = 0;
        for i in 0..depth {
            let bit = ((bits >> (127 - i)) & 1) as usize;
            if i + 1 == depth {
                tree[node][bit] = Next::Data(offset);
                break;
            }
            node = match tree[node][bit] {
                Next::Node(n) => n,
                _ => {
                    tree.push([Next::Nothing; 2]);
                    tree[node][bit] = Next::Node(tree.len() - 1);
                    tree.len() - 1
                }
            };
        }
    }
    let count = tree.len();
    let mut out = Vec::with_capacity(count * 6 + 16 + data.len() + 400);
    for node in &tree {
        for next in node {
            let value = match *next {
                Next::Nothing => count,
                Next::Node(n) => n,
                Next::Data(offset) => count + 16 + offset,
            };
            out.extend(&(value as u32).to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(&data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    let metadata = Datum::Map(vec![
        ("binary_format_major_version", Datum::U16(2)),
        ("binary_format_minor_version", Datum::U16(0)),
        ("build_epoch", Datum::U64(built)),
        ("database_type", text("trailsql-sample-places")),
        (
            "description",
            Datum::Map(vec![(
                "en",
                text(
                    "trailsql sample: made-up places for the sample archive's documentation \
                     addresses (RFC 5737); no real network is placed",
                ),
            )]),
        ),
        ("ip_version", Datum::U16(6)),
        ("languages", Datum::Array(vec![text("en")])),
        ("node_count", Datum::U32(count as u32)),
        ("record_size", Datum::U16(24)),
    ]);
    encode(&metadata, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn a_maxmind_reader_reads_the_places() {
        let reader = maxminddb::Reader::from_source(database(1_759_276_800)).unwrap();
        assert_eq!(reader.metadata.database_type, "trailsql-sample-places");
        assert_eq!(reader.metadata.build_epoch, 1_759_276_800);
        let key = maxminddb::PathElement::Key;
        let at = |ip: &str| reader.lookup(ip.parse::<IpAddr>().unwrap()).unwrap();
        let found = at("203.0.113.77");
        assert_eq!(
            found
                .decode_path::<String>(&[key("country"), key("iso_code")])
                .unwrap()
                .as_deref(),
            Some("BR")
        );
        assert_eq!(
            found
                .decode_path::<String>(&[key("city"), key("names"), key("en")])
                .unwrap()
                .as_deref(),
            Some("Sao Paulo")
        );
        assert_eq!(
            found
                .decode_path::<f64>(&[key("location"), key("latitude")])
                .unwrap(),
            Some(-23.55)
        );
        assert_eq!(
            found
                .decode_path::<u32>(&[key("location"), key("accuracy_radius")])
                .unwrap(),
            Some(100)
        );
        let office = at("198.51.100.10");
        assert_eq!(
            office
                .decode_path::<u32>(&[key("autonomous_system_number")])
                .unwrap(),
            Some(64496)
        );
        assert_eq!(
            at("192.0.2.15")
                .decode_path::<String>(&[key("city"), key("names"), key("en")])
                .unwrap()
                .as_deref(),
            Some("Hamburg")
        );
        // Next door to a network, and elsewhere: nothing.
        for none in ["198.51.101.1", "10.0.0.1", "203.0.112.255", "2001:db8::1"] {
            assert!(!at(none).has_data(), "{none}");
        }
    }
}
