"""Made-up customers: names, addresses and contact details by country. Emails use the reserved example domains
and UK phone numbers the range set aside for drama, so no real person is ever written to."""
import random
import re
import unicodedata
from dataclasses import dataclass

COUNTRY_WEIGHTS = {"GB": 78, "IE": 6, "DE": 5, "FR": 4, "NL": 4, "US": 3}

FIRST_NAMES = {
    "GB": ("Jane", "Tom", "Amira", "Owen", "Grace", "Olivia", "Harry", "Isla", "George", "Priya", "Mohammed",
           "Chloe", "Daniel", "Hannah", "Sam", "Lucy", "Ben", "Ellie", "Jack", "Ruth", "Fiona", "Alistair", "Megan",
           "Rhys", "Zara", "Imogen", "Callum", "Freya", "Arjun", "Martha", "Nathan", "Poppy", "Kwame", "Alice"),
    "IE": ("Aoife", "Ciarán", "Siobhán", "Darragh", "Niamh", "Seán", "Orla", "Conor", "Róisín", "Cillian"),
    "DE": ("Lukas", "Anna", "Felix", "Marie", "Jonas", "Lea", "Paul", "Sophie", "Jan", "Katrin"),
    "FR": ("Sophie", "Louis", "Camille", "Hugo", "Léa", "Jules", "Manon", "Arthur", "Chloé", "Théo"),
    "NL": ("Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Bram", "Sanne", "Joris", "Fleur"),
    "US": ("Emily", "Michael", "Sarah", "David", "Jessica", "Ryan", "Ashley", "Chris", "Maya", "Jordan"),
}
LAST_NAMES = {
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan",
           "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Edwards", "Green", "Hall", "Wood", "Clarke",
           "Lewis", "Harris", "Price", "Baker", "Murphy", "Campbell", "Stewart", "Liu", "Okafor", "Mensah", "Ali"),
    "IE": ("Murphy", "Kelly", "O'Brien", "Byrne", "Walsh", "Ryan", "O'Sullivan", "Doyle", "McCarthy", "Quinn"),
    "DE": ("Weber", "Müller", "Schmidt", "Fischer", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch", "Richter"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Girard"),
    "NL": ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos"),
    "US": ("Johnson", "Miller", "Garcia", "Rodriguez", "Anderson", "Lee", "Thompson", "White", "Clark", "Hill"),
}
# City, postcode pattern (# a digit, @ a letter), weight within the country.
CITIES = {
    "GB": (("London", "E# #@@", 14), ("Manchester", "M## #@@", 5), ("Leeds", "LS# #@@", 4),
           ("Bristol", "BS# #@@", 5), ("Edinburgh", "EH# #@@", 4), ("Glasgow", "G## #@@", 3),
           ("Cardiff", "CF## #@@", 3), ("York", "YO## #@@", 2), ("Brighton", "BN# #@@", 3),
           ("Norwich", "NR# #@@", 2), ("Bath", "BA# #@@", 2), ("Sheffield", "S## #@@", 2),
           ("Liverpool", "L## #@@", 2), ("Oxford", "OX# #@@", 2), ("Cambridge", "CB# #@@", 2),
           ("Belfast", "BT# #@@", 2), ("Exeter", "EX# #@@", 2), ("Newcastle upon Tyne", "NE# #@@", 2),
           ("Stroud", "GL5 #@@", 3)),
    "IE": (("Dublin", "D0# @###", 5), ("Cork", "T12 @###", 2), ("Galway", "H91 @###", 2),
           ("Limerick", "V94 @###", 1)),
    "DE": (("Berlin", "10###", 4), ("Hamburg", "20###", 2), ("München", "80###", 2), ("Köln", "50###", 2),
           ("Leipzig", "04###", 1)),
    "FR": (("Paris", "750##", 4), ("Lyon", "6900#", 2), ("Bordeaux", "33000", 1), ("Nantes", "44000", 1)),
    "NL": (("Amsterdam", "10## @@", 4), ("Utrecht", "35## @@", 2), ("Rotterdam", "30## @@", 2),
           ("Haarlem", "20## @@", 1)),
    "US": (("New York, NY", "100##", 3), ("Portland, OR", "972##", 2), ("Seattle, WA", "981##", 2),
           ("Boston, MA", "021##", 1), ("Austin, TX", "787##", 1)),
}
STREETS = {
    "GB": ("High Street", "Church Road", "Station Road", "Mill Lane", "Park Avenue", "Victoria Road",
           "Orchard Close", "Queen Street", "Castle View", "Market Place", "Albert Terrace", "Granary Row"),
    "IE": ("Main Street", "Harbour Road", "Church Lane", "Strand Road", "Grove Park"),
    "DE": ("Bergstraße", "Gartenweg", "Lindenallee", "Hauptstraße", "Schillerstraße"),
    "FR": ("rue des Lilas", "avenue Victor Hugo", "rue de la Paix", "boulevard Voltaire", "rue du Moulin"),
    "NL": ("Prinsengracht", "Kerkstraat", "Molenweg", "Dorpsstraat", "Lindenlaan"),
    "US": ("Maple Street", "Oak Avenue", "Elm Street", "Cedar Lane", "Pine Street"),
}
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# Trade customers (cafés and shops): larger orders through the API or pasted from an email.
WHOLESALE = (
    ("The Copper Kettle Café", "GB", "Bath", "api"),
    ("Hearth & Home Ltd", "GB", "Leeds", "api"),
    ("Little Acorn Gifts", "GB", "Norwich", "paste"),
    ("Studio Nord", "DE", "Hamburg", "api"),
    ("Maison Argile", "FR", "Lyon", "paste"),
)


@dataclass
class Identity:
    name: str
    email: str
    phone: str | None
    line1: str
    line2: str | None
    city: str
    postcode: str
    country: str


def _fill(pattern: str, rng: random.Random) -> str:
    return "".join(str(rng.randint(0, 9)) if ch == "#" else rng.choice("ABDEFHJLNPQRSTUWXY") if ch == "@" else ch
                   for ch in pattern)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower())


class People:
    """Makes identities with unique emails and phone numbers."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.emails: set[str] = set()
        self.phones: set[str] = set()

    def _phone(self, country: str) -> str | None:
        rng = self.rng
        for _ in range(5):
            phone = {
                "GB": lambda: f"+447700900{rng.randint(0, 999):03d}",  # Ofcom's drama range
                "IE": lambda: f"+35385{rng.randint(1000000, 9999999)}",
                "DE": lambda: f"+49151{rng.randint(10000000, 99999999)}",
                "FR": lambda: f"+336{rng.randint(10000000, 99999999)}",
                "NL": lambda: f"+316{rng.randint(10000000, 99999999)}",
                "US": lambda: f"+1555010{rng.randint(0, 99):02d}",  # 555-0100 to 0199 are fictional
            }[country]()
            if phone not in self.phones:
                self.phones.add(phone)
                return phone
        return None

    def _email(self, local: str) -> str:
        domain = self.rng.choice(EMAIL_DOMAINS)
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email

    def _address(self, country: str, city: str | None = None) -> tuple[str, str | None, str, str]:
        rng = self.rng
        cities = CITIES[country]
        if city is None:
            city, pattern, _ = rng.choices(cities, weights=[c[2] for c in cities])[0]
        else:
            pattern = next(c[1] for c in cities if c[0] == city)
        street = rng.choice(STREETS[country])
        number = rng.randint(1, 140)
        line1 = f"{street} {number}" if country in ("DE", "NL") else f"{number} {street}"
        line2 = f"Flat {rng.randint(1, 24)}" if country == "GB" and rng.random() < 0.12 else None
        return line1, line2, city, _fill(pattern, rng)

    def person(self) -> Identity:
        rng = self.rng
        country = rng.choices(list(COUNTRY_WEIGHTS), weights=list(COUNTRY_WEIGHTS.values()))[0]
        first, last = rng.choice(FIRST_NAMES[country]), rng.choice(LAST_NAMES[country])
        line1, line2, city, postcode = self._address(country)
        phone = self._phone(country) if rng.random() < 0.6 else None
        return Identity(f"{first} {last}", self._email(f"{_ascii(first)}.{_ascii(last)}"), phone,
                        line1, line2, city, postcode, country)

    def business(self, name: str, country: str, city: str) -> Identity:
        line1, line2, city, postcode = self._address(country, city)
        return Identity(name, self._email(f"orders.{_ascii(name)[:20]}"), self._phone(country),
                        line1, line2, city, postcode, country)
