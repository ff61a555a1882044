"""Labelled customer questions for the approved-answer benchmark (`safedesk.bench.answers`), demo shop.

Each covered question names the page (file title) the answer must be quoted from first and one or more
short facts, any of which must appear in the reply; an uncovered one must get the not-sure answer.
Labels were written by reading the demo knowledge (src/safedesk/demo/knowledge), not the replies.

- DEV: the questions the ranking was tuned on (a 54-question set written during earlier ranking work,
  its extra uncovered list, and the COVERED / UNCOVERED cases of tests/test_approved_responder.py),
  and 22 covered and 25 uncovered questions added for the decline work before it changed anything.
- TEST: held out. Written and committed before the ranking changes that followed it, with other
  wording and topics than DEV; run after a change, never tuned on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    title: str | None  # page the answer must cite first; None: the shop's pages do not answer it
    facts: tuple[str, ...] = ()  # any one of them must appear in the reply

    @property
    def covered(self) -> bool:
        return self.title is not None


def covered(text: str, title: str, *facts: str) -> Question:
    if not facts:
        raise ValueError(f"a covered question needs a fact: {text!r}")
    return Question(text, title, facts)


def uncovered(text: str) -> Question:
    return Question(text, None)


HOURS = "Opening hours and contact"
RETURNS = "Returns and refunds"
SHIPPING = "Shipping"
PAYMENT = "Payment"
FAQ = "Frequently asked questions"
CARE = "Product care"
SIZES = "Size guide"

DEV: tuple[Question, ...] = (
    # hours and contact
    covered("What are your opening hours?", HOURS, "Monday to Friday: 10:00-19:00"),
    covered("Are you open on Sunday?", HOURS, "Sunday: closed"),
    covered("When does the shop close on Saturday?", HOURS, "Saturday: 10:00-17:00"),
    covered("When can I reach customer service?", HOURS, "09:00-17:00"),
    covered("Are you open on Christmas Eve?", HOURS, "24 and 31 December"),
    covered("Are you open on 17 May?", HOURS, "17 May"),
    covered("What is your phone number?", HOURS, "+47 55 00 00 00"),
    covered("How can I call you?", HOURS, "+47 55 00 00 00"),
    covered("Can I phone customer service?", HOURS, "+47 55 00 00 00", "chat, email and phone"),
    covered("What is your email address?", HOURS, "kundeservice@"),
    covered("How do I contact you?", HOURS, "kundeservice@", "+47 55 00 00 00"),
    covered("Where is your shop?", HOURS, "Strandgaten 18"),
    covered("What is your address?", HOURS, "Strandgaten 18"),
    covered("How quickly do you answer emails?", HOURS, "within one business day", "next opening day"),
    covered("When is the shop open on Saturday?", HOURS, "Saturday: 10:00-17:00"),
    # returns, refunds and complaints
    covered("What is your return policy?", RETURNS, "30 days"),
    covered("How many days do I have to return something?", RETURNS, "30 days"),
    covered("How many days do I have to return an item?", RETURNS, "within 30 days"),
    covered("How do I send back an item?", RETURNS, "Print the return label", "My orders"),
    covered("How do I return an item?", RETURNS, "Print the return label"),
    covered("Is return shipping free?", RETURNS, "Returns from Norway are free"),
    covered("When will I get my refund?", RETURNS, "within 14 days"),
    covered("How long do refunds take?", RETURNS, "within 14 days"),
    covered("Can I exchange for another size?", RETURNS, "place a new order"),
    covered("Can I return gas canisters?", RETURNS, "Gas canisters"),
    covered("What is the warranty on boots?", RETURNS, "2 years", "5 years"),
    covered("Is there a warranty on hiking boots?", RETURNS, "2 years", "5 years"),
    covered("How long is the warranty?", RETURNS, "2 years", "5 years"),
    covered("My jacket is broken after 6 months, what can I do?", RETURNS, "faulty", "complaint"),
    covered("Do tents have a guarantee?", RETURNS, "5 years"),
    # shipping
    covered("How long does delivery take?", SHIPPING, "2-4 business days"),
    covered("When will an order to Sweden arrive?", SHIPPING, "3-5 business days"),
    covered("How much is shipping to Norway?", SHIPPING, "79 NOK"),
    covered("What does shipping cost?", SHIPPING, "79 NOK"),
    covered("Do you offer free shipping?", SHIPPING, "Free shipping"),
    covered("Do you ship to the UK?", SHIPPING, "United Kingdom"),
    covered("How do I track my parcel?", SHIPPING, "tracking link"),
    covered("Can I pick up my order in the shop?", SHIPPING, "Click and collect", "pick up your order"),
    covered("Are there customs fees for EU orders?", SHIPPING, "no customs fees"),
    # payment
    covered("Which payment methods do you accept?", PAYMENT, "Vipps (Norway only)"),
    covered("Can I pay with Klarna?", PAYMENT, "Klarna"),
    covered("Is Klarna invoice free?", PAYMENT, "free if you pay within 14 days"),
    covered("When is my card charged?", PAYMENT, "charged when the order leaves"),
    covered("Can I pay cash?", PAYMENT, "pay with cash"),
    covered("Is my card information safe?", PAYMENT, "never store your full card number"),
    covered("Can my company pay by invoice?", PAYMENT, "30 days to pay"),
    covered("Are prices including VAT?", PAYMENT, "25% VAT", "include"),
    # products, care, sizes and the FAQ
    covered("How do I wash my rain jacket?", CARE, "30-40 degrees"),
    covered("How do I wash my down jacket?", CARE, "down detergent"),
    covered("How should I clean my hiking boots?", CARE, "lukewarm water"),
    covered("How do I store my sleeping bag?", CARE, "loosely"),
    covered("Do you sell gift cards?", FAQ, "Gift cards are available"),
    covered("Can I rent a kayak?", FAQ, "kayak"),
    covered("How much does it cost to rent a tent?", FAQ, "250 NOK per weekend"),
    covered("Do you have student discount?", FAQ, "10% off"),
    covered("Do you match prices?", FAQ, "match the price"),
    covered("Can I cancel my order?", FAQ, "change or cancel your order"),
    covered("What do you sell?", FAQ, "clothing, footwear"),
    covered("What size jacket should I choose if I'm between sizes?", SIZES, "larger size"),
    covered("How should hiking boots fit?", SIZES, "finger's width", "afternoon"),
    covered("What chest size is a medium?", SIZES, "M | 94-100"),
    # not in the shop's pages
    uncovered("Do you sell helicopters?"),
    uncovered("What is the capital of Peru?"),
    uncovered("How do I bake sourdough bread?"),
    uncovered("Who won the football match yesterday?"),
    uncovered("Can I bring my dog into the shop?"),
    uncovered("Write me a poem about the sea."),
    uncovered("Do you have a loyalty app?"),
    uncovered("Do you sell bicycles?"),
    uncovered("Do you offer gift wrapping?"),
    uncovered("Do you repair bikes?"),
    uncovered("Is there a café in the shop?"),
    uncovered("Do you sell fishing rods?"),
    uncovered("Can I get a job at your shop?"),
    uncovered("Is the shop wheelchair accessible?"),
    uncovered("Do you sell ski wax?"),
    uncovered("What is the weather in Bergen tomorrow?"),
    uncovered("Do you have an app for iPhone?"),
    uncovered("Who is your CEO?"),
    uncovered("Do you buy used gear?"),
    uncovered("Do you organise guided hikes?"),
    uncovered("Can I book a kayak course?"),
    uncovered("Do you sell e-bikes?"),
    # Left out of the earlier uncovered list, as the pages half answer them: "Do you have a shop in
    # Oslo?" (our shop is in Bergen) and "Can I pay with Bitcoin?" (the list of payment methods).
    # Added for the decline work, labelled from the pages before any change: covered questions in
    # words the pages do not use ("postage", "launder", "kroner"), and uncovered ones next to a topic the
    # pages do cover, the kind that drew a neighbouring fact instead of the not-sure answer.
    covered("What's the postage to Denmark?", SHIPPING, "Sweden, Denmark and Finland: 149 NOK"),
    covered("How do I launder my waterproof coat?", CARE, "30-40 degrees"),
    covered("Is delivery free if I spend over 1000 kroner?", SHIPPING, "orders over 999 NOK"),
    covered("How much is home delivery?", SHIPPING, "149 NOK for home delivery"),
    covered("Do you deliver to Finland?", SHIPPING, "Finland"),
    covered("Can I use MobilePay from Denmark?", PAYMENT, "MobilePay (Denmark and Finland)"),
    covered("How long until I see my money back on my Vipps?", RETURNS, "3-5 business days"),
    covered("Is rope cut to length returnable?", RETURNS, "cut to length"),
    covered("How do I clean a dirty tent zip?", CARE, "soft brush"),
    covered("Should I pack my tent away wet?", CARE, "dry your tent completely"),
    covered("Can I tumble dry my rain jacket?", CARE, "Tumble dry on low heat"),
    covered("Is there somewhere to lock my bike at the shop?", HOURS, "bicycle parking"),
    covered("How far is the shop from Bryggen?", HOURS, "five-minute walk"),
    covered("Is the shop open on Boxing Day?", HOURS, "Boxing Day"),
    covered("Do you send out a newsletter?", FAQ, "twice a month"),
    covered("Can I rent a sleeping bag for a trip?", FAQ, "rent out tents, sleeping bags"),
    covered("How do I book a rental?", FAQ, "Book rentals in the shop or by phone"),
    covered("Do you sell backpacks?", FAQ, "backpacks and kayaks"),
    covered("How late can I cancel an order?", FAQ, "until it leaves our warehouse"),
    covered("How long until my tracking link works?", SHIPPING, "a few hours after the email arrives"),
    covered("Does delivery take longer at Christmas?", SHIPPING, "one or two extra days"),
    covered("What chest size is an XL?", SIZES, "XL | 106-112"),
    uncovered("Do you give a discount to teachers?"),
    uncovered("Can you include a gift message with my order?"),
    uncovered("Can I hire a mountain guide through you?"),
    uncovered("Do you run winter camping courses?"),
    uncovered("Do you rent out climbing gear?"),
    uncovered("Do you have a size chart for kids?"),
    uncovered("What sizes do your women's trousers come in?"),
    uncovered("Do your hiking boots come in a wide fit?"),
    uncovered("Are your down jackets ethically sourced?"),
    uncovered("Is your rain jacket PFC-free?"),
    uncovered("Do you recycle old tents?"),
    uncovered("Can I trade in my old jacket for a discount?"),
    uncovered("Can I transfer a gift card to someone else?"),
    uncovered("Is my parcel insured if it gets lost?"),
    uncovered("Can I choose a delivery time slot?"),
    uncovered("Is there an age limit for renting a kayak?"),
    uncovered("Do rental kayaks come with life jackets?"),
    uncovered("Can I get a printed catalogue?"),
    uncovered("Do you have a YouTube channel?"),
    uncovered("Do you host events or talks in the shop?"),
    uncovered("How much does your sea kayak weigh?"),
    uncovered("Which tent would you recommend for four people?"),
    uncovered("Do you sell second-hand tents?"),
    uncovered("Do you waterproof boots for customers in the shop?"),
    uncovered("Do you sell maps of hiking trails?"),
)

TEST: tuple[Question, ...] = (
    # shipping
    covered("If I order at noon, will it ship today?", SHIPPING, "before 14:00"),
    covered("Does delivery to Svalbard take longer?", SHIPPING, "2-3 days longer"),
    covered("How is a kayak delivered?", SHIPPING, "sent by freight"),
    covered("How long will you hold my click and collect order?", SHIPPING, "kept for 7 days"),
    covered("How do I know when my pickup order is ready?", SHIPPING, "text message"),
    covered("My tracking hasn't updated in days, what should I do?", SHIPPING, "3 business days"),
    covered("Do you deliver to Iceland?", SHIPPING, "Iceland"),
    covered("Can you send an order to the USA?", SHIPPING, "United States"),
    covered("Where do EU orders ship from?", SHIPPING, "Malmö"),
    # payment
    covered("Can I spread the cost over several months?", PAYMENT, "3, 6 or 12 months"),
    covered("Which currency do customers in Germany pay in?", PAYMENT, "euro (EUR)"),
    covered("Someone called asking for my BankID code in your name. Is that you?", PAYMENT, "never ask for your card"),
    covered("How can our school buy on invoice?", PAYMENT, "organisation number", "30 days to pay"),
    covered("If only part of my order ships, what am I charged for?", PAYMENT, "only the products we send"),
    # returns and complaints
    covered("Do I need the price tags still on to return clothes?", RETURNS, "tags attached"),
    covered("I wore my boots on a hike, can I still return them?", RETURNS, "tried on indoors"),
    covered("What does it cost to return an order from Sweden?", RETURNS, "99 NOK"),
    covered("What should I bring if I return in the shop?", RETURNS, "order confirmation"),
    covered("How soon after printing the label must I post the parcel?", RETURNS, "within 7 days"),
    covered("Can I return an engraved knife?", RETURNS, "engraved knives"),
    covered("The zip on my backpack broke after a year, can you fix it?", RETURNS, "repair, replace or refund"),
    covered("What do I need to send with a complaint?", RETURNS, "photos of the fault"),
    # the FAQ
    covered("When was Nordlys Outdoor founded?", FAQ, "2009"),
    covered("How long is a gift card valid?", FAQ, "valid for 3 years"),
    covered("Does price matching apply during a sale?", FAQ, "does not apply to sales"),
    covered("Will you match a price I found on Amazon?", FAQ, "marketplaces"),
    covered("A jacket is sold out, can you tell me when it's back?", FAQ, "Notify me"),
    covered("Can I rent snowshoes?", FAQ, "snowshoes"),
    covered("How much is a sea kayak per day?", FAQ, "450 NOK per day"),
    covered("How do I unsubscribe from your emails?", FAQ, "link at the bottom"),
    # hours and contact
    covered("Where can I park my car when visiting the shop?", HOURS, "Bygarasjen"),
    covered("Is customer service available on Saturdays?", HOURS, "10:00-15:00"),
    covered("Is the chat bot available at night?", HOURS, "around the clock"),
    covered("What are your hours on New Year's Eve?", HOURS, "10:00-13:00"),
    # care and sizes
    covered("How do I get the water beading back on my jacket?", CARE, "Reproof"),
    covered("How do I dry a down sleeping bag?", CARE, "tennis balls"),
    covered("Can I dry wet boots by the fireplace?", CARE, "away from the fireplace"),
    covered("How do I fix a small hole in my tent?", CARE, "repair patch"),
    covered("How do I care for leather boots?", CARE, "wax or leather care"),
    covered("How do I measure myself for a jacket?", SIZES, "widest part of your chest"),
    covered("What size is a 103 cm chest?", SIZES, "L | 100-106"),
    covered("Do your clothes use European or US sizing?", SIZES, "European sizes"),
    # not in the shop's pages
    uncovered("Do you offer a military discount?"),
    uncovered("Do you have a loyalty programme with points?"),
    uncovered("Can I book a personal fitting appointment?"),
    uncovered("Do you have an outlet store?"),
    uncovered("Is there a toilet in the shop?"),
    uncovered("How many employees do you have?"),
    uncovered("Can I get my skis sharpened?"),
    uncovered("What's the best hiking trail near Bergen?"),
    uncovered("Will my jacket keep me warm at minus 30 degrees?"),
    uncovered("Do you have a gift registry for weddings?"),
    uncovered("What's your company's VAT number?"),
    uncovered("Can I order by fax?"),
    uncovered("Do you sponsor sports clubs?"),
    uncovered("Are dogs allowed in the rental kayaks?"),
)

SETS: dict[str, tuple[Question, ...]] = {"dev": DEV, "test": TEST}
