"""The tyre shop's knowledge base, as the bot's CMS publishes it on `knowledge.articles`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    category: str
    content: str


ARTICLES: tuple[Article, ...] = (
    Article(
        "kb-01",
        "Delivery area and cost",
        "delivery",
        "We deliver tyres and wheels within 50 km of the city. Delivery is free for an order of"
        " four tyres or more; otherwise it costs 500 roubles. Couriers call an hour before.",
    ),
    Article(
        "kb-02",
        "Delivery times",
        "delivery",
        "Tyres in stock at our warehouse are delivered the next working day. Tyres ordered from"
        " a supplier take three to seven days. You get a text message when the courier leaves.",
    ),
    Article(
        "kb-03",
        "Warranty on tyres",
        "warranty",
        "Every tyre carries the manufacturer's warranty against defects such as bulges, cracks"
        " in the sidewall or tread separation, for five years from the production date. A claim"
        " needs the receipt and an inspection of the tyre at one of our shops.",
    ),
    Article(
        "kb-04",
        "Returns",
        "returns",
        "Unused tyres can be returned within 14 days of purchase in their original condition."
        " Tyres that have been fitted or driven on cannot be returned, except under warranty.",
    ),
    Article(
        "kb-05",
        "Fitting stations and opening hours",
        "fitting",
        "Our fitting stations Central, North, Riverside and Airport Road are open every day"
        " from 8:00 to 21:00. Booking ahead avoids queues in the seasonal rush.",
    ),
    Article(
        "kb-06",
        "Fitting prices",
        "fitting",
        "Changing a set of four tyres on steel wheels costs from 2,400 roubles, on alloy wheels"
        " from 3,200 roubles, wheel balancing included. Fitting is free for tyres bought from"
        " us as a set of four.",
    ),
    Article(
        "kb-07",
        "Tyre storage",
        "storage",
        "We store your seasonal tyres or wheels for 3,000 roubles a season, washed and packed,"
        " at a heated warehouse. Storage includes the seasonal change at any of our stations.",
    ),
    Article(
        "kb-08",
        "Choosing winter tyres",
        "advice",
        "Studded winter tyres grip best on ice; friction (Nordic) tyres are quieter and better"
        " on dry cold roads. Change to winter tyres when the daily temperature stays below"
        " seven degrees.",
    ),
    Article(
        "kb-09",
        "Reading a tyre size",
        "advice",
        "In a size such as 205/55 R16, 205 is the width in millimetres, 55 the sidewall height"
        " as a percentage of the width, and 16 the rim diameter in inches. The size is printed"
        " on the sidewall and inside the driver's door.",
    ),
    Article(
        "kb-10",
        "Payment methods",
        "payment",
        "We accept cards, cash on delivery, bank transfer for companies, and instalments over"
        " three or six months with no overpayment for orders above 20,000 roubles.",
    ),
    Article(
        "kb-11",
        "Order status and changes",
        "orders",
        "You can check an order by its number, which starts with TC. An order can be changed"
        " or cancelled free of charge until it leaves the warehouse.",
    ),
    Article(
        "kb-12",
        "Puncture repair",
        "fitting",
        "A puncture in the tread up to 6 mm is repaired with a patch from 600 roubles. Damage"
        " to the sidewall cannot be repaired safely: the tyre must be replaced.",
    ),
)
