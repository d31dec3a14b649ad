"""Countries and regions: names from pycountry, UN M49 regions, flags."""
