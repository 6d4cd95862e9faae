#!/usr/bin/env python3
"""Small MaxMind-format databases for the tests of --geoip, written with
the mmdb-writer package (installed by the tests into their own venv).

    make_mmdb.py DIR

writes DIR/city.mmdb (country, city, coordinates and their accuracy,
GeoLite2-City's layout) and DIR/asn.mmdb (GeoLite2-ASN's), over the documentation ranges
the fixture archives use.
"""

import os
import sys

from mmdb_writer import MMDBWriter, MmdbU16, MmdbU32
from netaddr import IPSet


def place(iso, country, city, lat, lon, radius_km):
    return {
        "country": {"iso_code": iso, "names": {"en": country}},
        "city": {"names": {"en": city}},
        "location": {"latitude": lat, "longitude": lon, "accuracy_radius": MmdbU16(radius_km)},
    }


def main():
    out = sys.argv[1]
    city = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City",
                      languages=["en"], description="trailsql tests: places")
    city.insert_network(IPSet(["198.51.100.0/24"]), place("DE", "Germany", "Berlin", 52.52, 13.40, 20))
    city.insert_network(IPSet(["203.0.113.0/24"]), place("BR", "Brazil", "Sao Paulo", -23.55, -46.63, 50))
    # Two cities 27 km apart, each placed to within 50 km.
    city.insert_network(IPSet(["2001:db8::/33"]), place("JP", "Japan", "Tokyo", 35.68, 139.69, 50))
    city.insert_network(IPSet(["2001:db8:8000::/33"]), place("JP", "Japan", "Yokohama", 35.44, 139.64, 50))
    city.to_db_file(os.path.join(out, "city.mmdb"))
    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN",
                     languages=["en"], description="trailsql tests: networks")
    asn.insert_network(IPSet(["198.51.100.0/24"]), {
        "autonomous_system_number": MmdbU32(64500),
        "autonomous_system_organization": "Example Transit",
    })
    asn.insert_network(IPSet(["192.0.2.0/24"]), {
        "autonomous_system_number": MmdbU32(64501),
        "autonomous_system_organization": "Example Hosting",
    })
    asn.to_db_file(os.path.join(out, "asn.mmdb"))


if __name__ == "__main__":
    main()
