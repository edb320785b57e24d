"""A tyre shop's FAQ: the small corpus the search must answer paraphrased questions from."""

from __future__ import annotations

ARTICLES: dict[str, tuple[str, str]] = {
    "winter-tyres": (
        "When to switch to winter tyres",
        "Fit winter tyres once daytime temperatures stay below 7 °C, usually from late"
        " October. Studded tyres may be used from December to the end of February.",
    ),
    "fitting-price": (
        "Tyre fitting prices",
        "Changing a set of four wheels costs 2,400 roubles for rims up to R16 and 3,200"
        " roubles for R17 to R19. Balancing is included in the price.",
    ),
    "storage": (
        "Seasonal tyre storage",
        "We keep your off-season wheels in our heated warehouse for 4,000 roubles per"
        " season. Tyres are washed, checked and packed in bags before storage.",
    ),
    "booking": (
        "Booking a fitting slot",
        "Book a fitting appointment through the voice bot, on the website or at the front"
        " desk. A slot takes about 40 minutes; please arrive ten minutes early.",
    ),
    "opening-hours": (
        "Opening hours",
        "Our service centres are open every day from 8 am to 9 pm, including weekends."
        " On public holidays we close at 6 pm.",
    ),
    "puncture": (
        "Puncture repair",
        "A nail or screw in the tread can usually be repaired with a patch for 800 roubles."
        " Damage to the sidewall cannot be repaired safely; the tyre must be replaced.",
    ),
    "tread-depth": (
        "Minimum tread depth",
        "Summer tyres must have at least 1.6 mm of tread and winter tyres at least 4 mm."
        " Below that the car fails inspection and grip on wet roads drops sharply.",
    ),
    "payment": (
        "Payment methods",
        "We accept bank cards, cash and payment by QR code through the fast payment system."
        " Corporate clients can pay by invoice.",
    ),
    "warranty": (
        "Warranty on tyres",
        "New tyres bought from us carry a 12-month warranty against manufacturing defects."
        " Keep your receipt; wear and road damage are not covered.",
    ),
    "tyre-pressure": (
        "Tyre pressure",
        "Check the pressure monthly when tyres are cold. The recommended values are on the"
        " sticker inside the driver's door; we check and inflate tyres for free.",
    ),
}

# Paraphrased questions (none repeats its article's words much), and the article that answers.
QUESTIONS: list[tuple[str, str]] = [
    ("How much will it cost me to have my wheels swapped?", "fitting-price"),
    ("Can you keep my summer set over the winter?", "storage"),
    ("What time do you close on Sunday?", "opening-hours"),
    ("I drove over a nail, can you fix the hole?", "puncture"),
    ("Is it time to put on cold-weather rubber?", "winter-tyres"),
    ("Do you take credit cards?", "payment"),
    ("How deep must the grooves on my tyres be to pass inspection?", "tread-depth"),
    ("How long does a visit take, and how do I sign up for one?", "booking"),
    ("What if a tyre I bought turns out to be faulty?", "warranty"),
    ("How much air should be in my tyres?", "tyre-pressure"),
]

# Harder paraphrases that all-MiniLM-L6-v2 ranks second: "tyres" pulls them towards the
# warranty or opening-hours articles. The search must still find them among the first three.
HARD_QUESTIONS: list[tuple[str, str]] = [
    ("How worn can my tyres be before they are illegal?", "tread-depth"),
    ("Can I schedule a visit in advance?", "booking"),
]
