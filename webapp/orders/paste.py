"""Reading a pasted email or chat message into a draft order: products and quantities, customer, address.

Pure functions over (text, products, customers): no database, no request, no cloud service. Products are
anything with ``sku`` and ``name``; customers anything with ``id``, ``name``, ``email`` and ``phone``.
"""
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from webapp.customers.matching import normalise_phone
from webapp.validation import CONTROL_CHARACTERS

MAX_MESSAGE = 5000
# Below this a chunk of text is not taken for a product at all; below SURE the line is flagged for a look.
MATCH_FLOOR = 70
SURE = 85

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "dozen": 12,
    "a dozen": 12, "one dozen": 12, "half a dozen": 6, "half dozen": 6, "a couple of": 2, "a couple": 2,
    "couple of": 2, "a pair of": 2, "pair of": 2, "a few": 3, "single": 1, "another": 1,
    "thirty": 30, "forty": 40, "fifty": 50,
}
# "twenty-two", "thirty five"
NUMBER_WORDS.update({f"{tens}{joint}{unit}": NUMBER_WORDS[tens] + NUMBER_WORDS[unit]
                     for tens in ("twenty", "thirty", "forty", "fifty")
                     for unit in ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
                     for joint in ("-", " ")})
_NUMBER_WORD = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))

COUNTRIES = {
    "uk": "GB", "u.k.": "GB", "united kingdom": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "gb": "GB", "ireland": "IE", "eire": "IE", "france": "FR",
    "germany": "DE", "deutschland": "DE", "netherlands": "NL", "the netherlands": "NL", "holland": "NL",
    "belgium": "BE", "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT", "portugal": "PT",
    "austria": "AT", "denmark": "DK", "sweden": "SE", "norway": "NO", "finland": "FI", "poland": "PL",
    "switzerland": "CH", "usa": "US", "united states": "US", "us": "US", "canada": "CA", "australia": "AU",
}
_COUNTRY = "|".join(sorted((re.escape(c) for c in COUNTRIES), key=len, reverse=True))

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.I)
# A phone number: optional +/00, then 9 to 14 digits with spaces, dots, dashes or brackets between.
PHONE = re.compile(r"(?<![\w@])(?:\+|00)?\(?\d[\d\s().-]{7,18}\d(?!\w)")
UK_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b", re.I)
# Five-digit (FR, DE, ES, IT ...), Portuguese "1100-053" or Dutch "1012 AB" postcodes, only when a town follows.
EU_POSTCODE = re.compile(r"\b(\d{4}-\d{3}|\d{4} ?[A-Z]{2}|\d{5}|\d{4})\s+([A-ZÀ-Ý][\w'-]+(?: [A-ZÀ-Ý][\w'-]+)?)")
STREET_WORDS = (r"street|st|road|rd|lane|ln|avenue|ave|close|cl|way|drive|dr|court|ct|place|pl|terrace|"
                r"crescent|cres|gardens|gdns|grove|hill|row|square|sq|walk|yard|mews|park|green|view|rise|parade|"
                r"broadway|boulevard|blvd|wharf|quay|cottages|villas|circus|gate|end")
STREET = re.compile(
    rf"^(?:(?:flat|apt|apartment|unit)\s*\d+\w?,?\s+)?\d+[a-z]?,?\s+[\w'’. -]*?\b(?:{STREET_WORDS})\.?"
    rf"(?:\s+[A-Z]{{1,2}}\d[A-Z\d]? ?\d[A-Z]{{2}})?$"
    rf"|^\d+[a-z]?,?\s+(?:rue|avenue|boulevard|place|chemin|via|calle|rua)\b"
    rf"|^(?:rue|via|calle|rua|avenida)\b.*\d"
    rf"|^[\w'’-]*(?:straße|strasse|str\.|gracht|weg|laan|plein|gasse|allee|platz|vej|gatan)\s*\d+",
    re.I)
# "Jane", "O'Neil", "McDonald", "Jean-Luc", "Anne-marie"
NAME_WORD = r"[A-Z](?:[a-zà-ÿ]+(?:['’-]?[A-Z][a-zà-ÿ]+|['’-][a-zà-ÿ]+)*|['’][A-Z][a-zà-ÿ]+)"
FULL_NAME = rf"{NAME_WORD}(?:[ \t]+(?:(?:de|van|von|der|den|da|di|du|le|la)[ \t]+)?(?:{NAME_WORD}|[A-Z]\.?)){{0,2}}"
NOT_NAMES = {"Christmas", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Me",
             "Him", "Her", "My", "The", "A", "An", "Delivery", "Shipping", "Next", "Tomorrow", "Today", "Please",
             "Thanks", "Thank", "Hi", "Hello", "Hey", "Dear", "Order", "Best", "Regards", "Cheers", "Mum", "Dad"}
SIGN_OFF = re.compile(
    rf"(?:^|\n|[.!?]\s+)[ \t]*(?:many thanks|thanks a lot|thanks so much|thank you|thanks|thx|cheers|ta|"
    rf"kind regards|best regards|best wishes|warm regards|regards|best|love|all the best|speak soon)"
    rf"[ \t]*[,!.:-]*[ \t]*\n?[ \t]*-?[ \t]*({FULL_NAME})[ \t]*(?:x+|xx)?[ \t]*[.!]?[ \t]*(?=\n|$)", re.I)
INTRO = re.compile(
    rf"\b(?i:(?:is|it'?s)\s+for|for(?:\s+the)?|deliver(?:ed)?\s+to|send\s+(?:it\s+|them\s+)?to|"
    rf"ship\s+(?:it\s+|them\s+)?to|post\s+(?:it\s+|them\s+)?to|name\s*:|customer\s*:|my name is|this is|"
    rf"i'?m|i am|it'?s)[ \t]*:?[ \t]*\n?[ \t]*({FULL_NAME})"
    rf"|(?:^|\s)-[ \t]+({FULL_NAME})(?=,)"
    rf"|^[ \t]*({FULL_NAME})[ \t]+(?i:here)\b", re.M)
# "3 vases to Sophie de Vries": a bare "to" only counts before a name of two or more words.
TO_NAME = re.compile(rf"\b(?i:to)[ \t]+({NAME_WORD}(?:[ \t]+(?:(?:de|van|von|der|den|da|di|du|le|la)[ \t]+)?"
                     rf"{NAME_WORD}){{1,2}})")
# Words around a product in a message that are not part of its name.
FILLER = re.compile(
    r"\b(?:hi|hello|hey|hiya|dear|please|pls|plz|thanks|thank you|could|can|would|i|we|i'd|id|we'd|like|love|"
    r"to|order|get|have|want|need|buy|take|send|me|us|some|of|the|my|also|and|plus|with|just|one more|more|"
    r"another|please send|for|x|qty|quantity|pcs|pieces|units?|each|too|as well|again|lot|lots)\b", re.I)
GREETING = re.compile(r"^\s*(?:hi|hello|hey|hiya|good morning|morning|good afternoon|good evening|dear \w+)"
                      r"(?:\s+there)?\b[,!]?", re.I)


@dataclass
class PastedLine:
    """One product the message asks for: the words it was read from, the quantity, and how sure the match is."""
    text: str
    quantity: int
    sku: str | None = None
    name: str | None = None
    confidence: int = 0
    alternatives: list[str] = field(default_factory=list)

    @property
    def needs_look(self) -> bool:
        return self.sku is None or self.confidence < SURE or bool(self.alternatives)


@dataclass
class PastedOrder:
    """What a message says: lines, and the customer's details as the order form's fields."""
    lines: list[PastedLine] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    customer_id: int | None = None
    customer_match: str | None = None  # "email", "phone" or "name"
    customer_name: str | None = None


def message_errors(text: str | None) -> list[str]:
    """Why a pasted message cannot be read, or an empty list."""
    if text is None or not text.strip():
        return ["Paste the customer's message first."]
    if len(text) > MAX_MESSAGE:
        return [f"must be at most {MAX_MESSAGE:,} characters (this one has {len(text):,})"]
    if CONTROL_CHARACTERS.search(text):
        return ["must not contain control characters"]
    return []


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("’", "'").replace("×", "x").replace("–", "-").replace("—", "-").replace("\t", " ")


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith("ss"):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if re.search(r"(?:ches|shes|xes|sses|oes)$", word):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, each word singular: 'Blue Mugs!' -> 'blue mug'."""
    words = re.findall(r"[a-z0-9à-ÿ]+", text.lower())
    return " ".join(_singular(word) for word in words)


def _cut(text: str, span: tuple[int, int], keep: str = "\n") -> str:
    return text[:span[0]] + keep + text[span[1]:]


# ---------------------------------------------------------------- customer details

def _take_email(text: str) -> tuple[str | None, str]:
    match = EMAIL.search(text)
    if not match:
        return None, text
    return match.group(0).strip(".'").lower(), _cut(text, match.span())


def _take_phone(text: str) -> tuple[str | None, str]:
    for match in PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 9 <= len(digits) <= 14:
            phone = re.sub(r"\s+", " ", match.group(0).strip())
            start, end = match.span()
            label = re.search(r"(?:tel|phone|mobile|mob|call|ph|m)\.?\s*:?\s*$", text[:start], re.I)
            return phone, _cut(text, (label.start() if label else start, end))
    return None, text


def _take_name(text: str) -> tuple[str | None, str]:
    """The name after "for", "ship to", "name:" ..., or in a sign-off ("Thanks, Jane")."""
    for pattern in (INTRO, SIGN_OFF, TO_NAME):
        for match in pattern.finditer(text):
            group = next(i for i in range(1, (pattern.groups or 1) + 1) if match.group(i))
            words = [w for w in match.group(group).split() if w.strip(".") not in NOT_NAMES]
            if not words or match.group(group).split()[0] in NOT_NAMES:
                continue
            name = " ".join(words)
            start, end = match.span(group)
            if pattern is SIGN_OFF:
                start = match.start()
            return name, SIGN_OFF.sub("\n", _cut(text, (start, end), keep="\n" if pattern is SIGN_OFF else ","))
    return None, text


def _take_country(segment: str) -> tuple[str | None, str]:
    match = re.search(rf"(?:^|[\s,])({_COUNTRY})\.?\s*$", segment, re.I)
    if not match:
        return None, segment
    return COUNTRIES[match.group(1).lower()], segment[:match.start(1)].strip(" ,")


def _split_street_off(segment: str) -> list[str]:
    """"send 3 candles to 14 Queen Street" -> the order part and the street, so the street is read as one."""
    if STREET.search(segment.strip()):
        return [segment]
    for match in re.finditer(r"\b(?:to|at)\s+(?=(?:flat|apt|apartment|unit)?\s*\d)", segment, re.I):
        street = segment[match.end():]
        if STREET.search(street.strip()):
            return [segment[:match.start()], street]
    return [segment]


def _read_address(segments: list[str]) -> tuple[dict[str, str], set[int]]:
    """Street with a number, town, postcode and country from the message's comma/line segments."""
    found: dict[str, str] = {}
    used: set[int] = set()
    segments[:] = [re.sub(r"^\s*(?:(?:shipping|delivery|postal)\s+)?address\s*:\s*", "", s, flags=re.I)
                   for s in segments]
    segments[:] = [part for segment in segments for part in _split_street_off(segment)]
    street_at = next((i for i, s in enumerate(segments) if STREET.search(s.strip())), None)
    if street_at is not None:
        found["line1"] = segments[street_at].strip().rstrip(".")
        used.add(street_at)
        before = street_at - 1
        if before >= 0 and re.fullmatch(r"\s*(?:flat|apt|apartment|unit|suite)\s*\d+\w?\s*", segments[before], re.I):
            found["line2"] = segments[before].strip()
            used.add(before)
    for i, segment in enumerate(segments):
        if i in used:
            continue
        country, rest = _take_country(segment)
        if country and (rest == "" or street_at is not None):
            found.setdefault("country", country)
            segments[i] = rest
            if not rest:
                used.add(i)
    for i, segment in enumerate(segments):
        if i in used and i != street_at:
            continue
        match = UK_POSTCODE.search(segment)
        if match:
            found["postcode"] = f"{match.group(1)} {match.group(2)}".upper()
            found.setdefault("country", "GB")
            town = (segment[:match.start()] + " " + segment[match.end():]).strip(" ,.")
            if i == street_at:
                found["line1"] = segment[:match.start()].strip(" ,.")
            elif town:
                found["city"] = town
            used.add(i)
            break
        match = EU_POSTCODE.search(segment) if street_at is not None and i != street_at else None
        if match:
            found["postcode"] = match.group(1).upper()
            found["city"] = match.group(2)
            used.add(i)
            break
    if street_at is not None and "city" not in found:
        after = [i for i in range(street_at + 1, len(segments)) if i not in used and segments[i].strip()]
        if after:
            candidate = segments[after[0]].strip(" .")
            if re.fullmatch(r"[A-Za-zÀ-ÿ'-]+(?: [A-Za-zÀ-ÿ'-]+){0,2}", candidate) and \
                    candidate.lower() not in COUNTRIES:
                found["city"] = candidate
                used.add(after[0])
    if "city" in found:
        found["city"] = re.split(r"\.\s", found["city"])[0].strip(" .")
        found["city"] = found["city"].title() if found["city"].islower() else found["city"]
    return found, used


# ---------------------------------------------------------------- products

def _quantity(chunk: str) -> tuple[int, str]:
    """The quantity a chunk asks for (1 when none is said) and the chunk without it."""
    patterns = (
        r"(?:^|\s)(?:x\s?(\d{1,4})|(\d{1,4})\s?x)(?=\s|$)",                 # x2, 2x, 2 x
        r"(?:^|\s)(?:qty|quantity)\s*:?\s*(\d{1,4})\b",
        r"\((\d{1,4})\)",                                                  # (2)
        r"[:=-]\s*(\d{1,4})\s*$",                                          # mug: 2, mug - 2
        r"^\s*(\d{1,4})\b",                                                # 2 blue mugs
        r"\b(\d{1,4})\s*(?:of|pcs|pieces|units?)\b",
    )
    for pattern in patterns:
        match = re.search(pattern, chunk, re.I)
        if match:
            number = next(g for g in match.groups() if g)
            if int(number) > 0:
                return int(number), _cut(chunk, match.span(), keep=" ")
    anywhere = re.search(r"(?<![\w.])(\d{1,4})(?![\w.])", chunk)
    if anywhere and int(anywhere.group(1)) > 0:
        return int(anywhere.group(1)), _cut(chunk, anywhere.span(), keep=" ")
    match = re.search(rf"(?:^|\s)({_NUMBER_WORD})(?=\s)(?:\s+of(?:\s+the)?)?", chunk, re.I)
    if match:
        words = match.group(1).lower()
        number = NUMBER_WORDS[words]
        # "a dozen" / "two dozen": a number word before "dozen" multiplies.
        dozen = re.match(r"\s+dozen\b", chunk[match.end():], re.I)
        if dozen and "dozen" not in words:
            return number * 12, chunk[:match.start()] + " " + chunk[match.end() + dozen.end():]
        return number, _cut(chunk, match.span(), keep=" ")
    return 1, chunk


@dataclass(frozen=True)
class _Candidate:
    sku: str
    name: str
    words: str
    sku_words: str


def _score(phrase: str, candidate: _Candidate) -> float:
    if not phrase:
        return 0
    if phrase.replace(" ", "") == candidate.sku_words.replace(" ", ""):
        return 100
    by_name = 0.6 * fuzz.token_set_ratio(phrase, candidate.words) + 0.4 * fuzz.token_sort_ratio(phrase,
                                                                                                candidate.words)
    # Every word typed, typos and all ("tepot", "blu"), close to a word of the name; the more of the name
    # they cover, the surer the match.
    name_words = candidate.words.split()
    closeness = [max(fuzz.ratio(word, name_word) for name_word in name_words) for word in phrase.split()]
    covered = sum(1 for name_word in name_words if max(fuzz.ratio(w, name_word) for w in phrase.split()) >= 70)
    by_words = 0.0
    if name_words and min(closeness) >= 70:
        by_words = sum(closeness) / len(closeness) * (0.8 + 0.2 * covered / len(name_words))
    by_sku = fuzz.ratio(phrase.replace(" ", ""), candidate.sku_words.replace(" ", ""))
    return max(by_name, by_words if len(phrase) > 3 else 0, by_sku)


def _windows(phrase: str) -> list[str]:
    """The phrase and each run of up to four of its words: a product named inside a longer sentence."""
    words = phrase.split()[:12]
    runs = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, min(len(words), i + 4) + 1)}
    return [phrase, *runs]


def _best_score(phrase: str, candidate: _Candidate) -> float:
    # Extra words around the product name cost a little, so the whole phrase wins a tie.
    return max(_score(window, candidate) - (0 if window == phrase else 2) for window in _windows(phrase))


PREFILTER = 12


def _shortlist(phrase: str, candidates: Sequence[_Candidate]) -> Sequence[_Candidate]:
    """The few products worth scoring closely: a big catalogue is narrowed by rapidfuzz's fast bulk scorers."""
    if len(candidates) <= PREFILTER * 2:
        return candidates
    keep: set[int] = set()
    for choices, scorer in (([c.words for c in candidates], fuzz.WRatio),
                            ([c.words for c in candidates], fuzz.token_set_ratio),
                            ([c.sku_words for c in candidates], fuzz.ratio)):
        keep.update(index for _, _, index in process.extract(phrase, choices, scorer=scorer, limit=PREFILTER))
    return [candidates[index] for index in sorted(keep)]


def _match(phrase: str, candidates: Sequence[_Candidate]) -> tuple[_Candidate | None, int, list[str]]:
    """The best product for ``phrase``, its confidence 0-100, and other products nearly as good."""
    scored = sorted(((_best_score(phrase, c), c) for c in _shortlist(phrase, candidates)),
                    key=lambda pair: -pair[0])
    if not scored or scored[0][0] < MATCH_FLOOR:
        return None, int(scored[0][0]) if scored else 0, []
    best_score, best = scored[0]
    close = [c.sku for s, c in scored[1:4] if s >= best_score - 3]
    return best, round(best_score), close


def _chunks(text: str) -> list[str]:
    text = GREETING.sub("\n", text)
    pieces = re.split(r"\n|;|,|\.(?:\s|$)|!|\?|\band\b|\sn\s|&|\+|\bplus\b|\balso\b|\bwith\b"
                      r"|\s(?=\d{1,4}\s?x\s)", text, flags=re.I)
    return [p.strip(" -*•·:") for p in pieces if p and p.strip(" -*•·:")]


def read_lines(text: str, products: Sequence) -> tuple[list[PastedLine], list[str]]:
    """Products and quantities asked for in ``text``; also the chunks that had a quantity but no product."""
    candidates = [_Candidate(p.sku, p.name, normalise(p.name), normalise(p.sku)) for p in products]
    lines: list[PastedLine] = []
    unmatched: list[str] = []
    matches: dict[str, tuple] = {}
    for chunk in _chunks(text):
        quantity, rest = _quantity(chunk)
        phrase = normalise(FILLER.sub(" ", rest))
        sku_like = re.search(r"\b[A-Z0-9]{2,}(?:-[A-Z0-9]+)+\b", rest)
        if sku_like:
            phrase = normalise(sku_like.group(0))
        if phrase not in matches:
            matches[phrase] = _match(phrase, candidates)
        best, confidence, close = matches[phrase]
        if best is None:
            if phrase and rest != chunk and len(phrase.split()) <= 5:  # "3 giraffes": asked for, not sold here
                asked = re.sub(r"\s+(?:for|to|please|pls|thanks)\s*$", "", chunk, flags=re.I)
                if asked not in unmatched:
                    unmatched.append(asked)
            continue
        existing = next((line for line in lines if line.sku == best.sku), None)
        if existing is not None:
            if rest != chunk:  # "2 blue mugs ... and 2 more blue mugs"; a bare second mention adds nothing
                existing.quantity += quantity
            continue
        lines.append(PastedLine(text=chunk, quantity=min(quantity, 100_000), sku=best.sku, name=best.name,
                                confidence=confidence, alternatives=close))
    return lines, unmatched


# ---------------------------------------------------------------- customer matching

def match_customer(customers: Sequence, *, email: str | None, phone: str | None,
                   name: str | None) -> tuple[object | None, str | None]:
    """The existing customer the message is from: by email, else phone, else a close name."""
    if email:
        found = next((c for c in customers if (c.email or "").lower() == email), None)
        if found is not None:
            return found, "email"
    wanted_phone = normalise_phone(phone)
    if wanted_phone:
        tail = wanted_phone[-9:]
        found = next((c for c in customers if c.phone and normalise_phone(c.phone)[-9:] == tail), None)
        if found is not None:
            return found, "phone"
    if name:
        scored = sorted(((fuzz.token_sort_ratio(name.lower(), (c.name or "").lower()), c) for c in customers),
                        key=lambda pair: -pair[0])
        if scored and scored[0][0] >= 88 and len(name.split()) >= 2:
            return scored[0][1], "name"
    return None, None


# ---------------------------------------------------------------- the whole message

def _bare_name(segments: list[str], used: set[int], products: Sequence) -> str | None:
    """A line or comma piece that is only a person's name ("Kate Lin"), when nothing introduced one."""
    candidates = [_Candidate(p.sku, p.name, normalise(p.name), normalise(p.sku)) for p in products]
    for i, segment in enumerate(segments):
        text = segment.strip(" .-")
        if i in used or not re.fullmatch(rf"{NAME_WORD}(?:[ \t]+{NAME_WORD}){{1,2}}", text):
            continue
        if set(text.split()) & NOT_NAMES or text.lower() in COUNTRIES:
            continue
        if _match(normalise(text), candidates)[1] < SURE:
            used.add(i)
            return text
    return None



def read_pasted_order(text: str, products: Sequence, customers: Sequence = ()) -> PastedOrder:
    """Read a pasted message into a draft order. ``text`` must have passed ``message_errors``."""
    text = _tidy(text)
    email, text = _take_email(text)
    phone, text = _take_phone(text)
    name, text = _take_name(text)
    segments = re.split(r"[\n,;]|(?<=[!?])\s+|(?<=[a-z]{3}\.)\s+(?=[A-Z])", text)
    address, used = _read_address(segments)
    if name is None:
        name = _bare_name(segments, used, products)
    remaining = "\n".join(s for i, s in enumerate(segments) if i not in used)
    lines, unmatched = read_lines(remaining, products)

    values = {"customer_name": name or "", "customer_email": email or "", "customer_phone": phone or "",
              "line1": address.get("line1", ""), "line2": address.get("line2", ""), "city": address.get("city", ""),
              "postcode": address.get("postcode", ""), "country": address.get("country", "")}
    draft = PastedOrder(lines=lines, unmatched=unmatched, values=values)
    return fill_customer(draft, customers)


def fill_customer(draft: PastedOrder, customers: Sequence) -> PastedOrder:
    """Link the draft to the existing customer who sent it, if any, and fill the details the message left out."""
    values = draft.values
    customer, how = match_customer(customers, email=values["customer_email"] or None,
                                   phone=values["customer_phone"] or None, name=values["customer_name"] or None)
    if customer is None:
        return draft
    # Fill only the gaps, so intake links the order to this customer (it matches on email, then phone).
    given = values["customer_name"]
    # "Thanks, Jane" from a customer found by email or phone: use the full name the shop knows.
    if not given or (len(given.split()) == 1 and given.lower() in customer.name.lower().split()):
        values["customer_name"] = customer.name
    values["customer_email"] = values["customer_email"] or (customer.email or "")
    values["customer_phone"] = values["customer_phone"] or (customer.phone or "")
    if not any(values[k] for k in ("line1", "city", "postcode")):
        for key, attribute in (("line1", "address_line1"), ("line2", "address_line2"), ("city", "city"),
                               ("postcode", "postcode"), ("country", "country")):
            values[key] = getattr(customer, attribute, None) or ""
    draft.customer_id, draft.customer_match, draft.customer_name = customer.id, how, customer.name
    return draft
