"""The panel's two languages. Messages are written in English in the code and templates
(through `_()`); SWEDISH maps each to its Swedish text. tests/services/web checks that every
message has one."""

from __future__ import annotations

import jinja2
from jinja2.ext import i18n as _i18n_extension  # noqa: F401  (jinja2.ext.i18n, loaded by name)

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"


def negotiate(accept_language: str) -> str:
    """The best of our languages for an Accept-Language header (q-values honoured)."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        q -= position * 1e-6  # the earlier of equal weights wins
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def translate(lang: str, message: str) -> str:
    if lang == "sv":
        return SWEDISH.get(message, message)
    return message


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    return translate(str(context.get("lang") or DEFAULT_LANGUAGE), message)


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return _gettext(context, singular if n == 1 else plural)


def install(env: jinja2.Environment) -> None:
    """`_()`, gettext and ngettext in the templates, in the language of the page's context.
    New-style gettext: variables are passed by name, formatted in and escaped."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


SWEDISH: dict[str, str] = {
    # The frame
    "Hubben admin": "Hubben admin",
    "Skip to content": "Hoppa till innehållet",
    "admin": "admin",
    "Language": "Språk",
    "Log out": "Logga ut",
    "Admin sections": "Adminavdelningar",
    "Dashboard": "Översikt",
    "Cases": "Ärenden",
    "Members": "Medlemmar",
    "Organisations": "Organisationer",
    "Hub moderators": "Hubbmoderatorer",
    "Audit log": "Granskningslogg",
    "Failed jobs": "Misslyckade jobb",
    "Every decision is recorded in the audit log.": "Varje beslut sparas i granskningsloggen.",
    "Pages": "Sidor",
    "First page": "Första sidan",
    "Next page": "Nästa sida",
    "(unknown)": "(okänd)",
    "yes": "ja",
    "no": "nej",
    "until": "till",
    "by": "av",
    "Any": "Alla",
    "Save": "Spara",
    # Log-in and sessions
    "Log in": "Logga in",
    "Log in to the admin panel": "Logga in i adminpanelen",
    "For Hubben's platform and hub moderators. Use your Hubben account.": (
        "För Hubbens plattforms- och hubbmoderatorer. Logga in med ditt Hubbenkonto."
    ),
    "Email address": "E-postadress",
    "Password": "Lösenord",
    "You have logged out.": "Du har loggat ut.",
    "Wrong email address or password.": "Fel e-postadress eller lösenord.",
    "Too many attempts. Try again in %(wait)s.": "För många försök. Försök igen om %(wait)s.",
    "a while": "en stund",
    "%(n)s seconds": "%(n)s sekunder",
    "%(n)s minutes": "%(n)s minuter",
    "Your session has ended. Please log in again.": "Din session har tagit slut. Logga in igen.",
    # Refusals
    "Not found.": "Hittades inte.",
    "This form was sent from another site and was refused.": (
        "Formuläret skickades från en annan webbplats och avvisades."
    ),
    "The form is too large.": "Formuläret är för stort.",
    "The form has expired or was not sent from this panel. Please try again.": (
        "Formuläret har gått ut eller skickades inte från den här panelen. Försök igen."
    ),
    "The service is not answering. Please try again shortly.": "Tjänsten svarar inte. Försök igen om en liten stund.",
    "You may not do this.": "Du får inte göra detta.",
    "Only platform moderators may use this page.": "Bara plattformsmoderatorer får använda den här sidan.",
    "Only platform administrators may use this page.": "Bara plattformsadministratörer får använda den här sidan.",
    "Too many requests. Please wait a moment.": "För många förfrågningar. Vänta en stund.",
    "The request could not be used": "Förfrågan gick inte att använda",
    "Not allowed": "Inte tillåtet",
    "Not found": "Hittades inte",
    "Too large": "För stort",
    "Too many requests": "För många förfrågningar",
    "The service is not answering": "Tjänsten svarar inte",
    "Something went wrong": "Något gick fel",
    "The admin panel is for platform moderators and hub moderators. If you should be one, ask a platform "
    "administrator.": (
        "Adminpanelen är till för plattforms- och hubbmoderatorer. Om du borde vara en av dem, fråga en "
        "plattformsadministratör."
    ),
    "Back to the dashboard": "Tillbaka till översikten",
    # Dashboard
    "You are a platform moderator.": "Du är plattformsmoderator.",
    "You moderate these hubs:": "Du modererar de här hubbarna:",
    "The queue at a glance": "Kön i korthet",
    "Open cases": "Öppna ärenden",
    "Unclaimed": "Ej tagna",
    "Appealed": "Överklagade",
    "Oldest waiting since": "Äldsta väntar sedan",
    "Actions today": "Åtgärder i dag",
    "Work the queue": "Arbeta med kön",
    # The queue
    "Filter the cases": "Filtrera ärendena",
    "Status": "Status",
    "Reason": "Skäl",
    "What was reported": "Vad som anmäldes",
    "Hub (its address)": "Hubb (dess adress)",
    "Hub": "Hubb",
    "All my hubs": "Alla mina hubbar",
    "Claimed": "Tagen",
    "Not appealed": "Inte överklagade",
    "Show cases": "Visa ärenden",
    "Results": "Resultat",
    "%(num)s case": "%(num)s ärende",
    "%(num)s cases": "%(num)s ärenden",
    "%(num)s report": "%(num)s anmälan",
    "%(num)s reports": "%(num)s anmälningar",
    "Case": "Ärende",
    "Reasons": "Skäl",
    "Waiting since": "Väntar sedan",
    "Claimed by": "Tas om hand av",
    "nobody": "ingen",
    "hidden automatically": "dolt automatiskt",
    "appealed": "överklagat",
    "No cases match.": "Inga ärenden matchar.",
    "No hub with the address %(slug)s.": "Ingen hubb har adressen %(slug)s.",
    # A case
    "Summary": "Sammanfattning",
    "Opened": "Öppnat",
    "Last reported": "Senast anmält",
    "Reports": "Anmälningar",
    "The content as readers saw it": "Innehållet som läsarna såg det",
    "edited": "redigerat",
    "Link:": "Länk:",
    "Markdown source": "Markdown-källa",
    "Reported member": "Anmäld medlem",
    "suspended": "avstängd",
    "Profile and history": "Profil och historik",
    "Reported organisation": "Anmäld organisation",
    "verified": "verifierad",
    "Appeal": "Överklagande",
    "decided": "avgjort",
    "Decisions so far": "Beslut hittills",
    "None yet.": "Inga ännu.",
    "The author's history": "Upphovspersonens historik",
    "Act on this case": "Agera i ärendet",
    "Claim": "Ta ärendet",
    "You have claimed this case.": "Du har tagit ärendet.",
    "Release the case": "Lämna ifrån dig ärendet",
    "Claimed by @%(handle)s.": "Tas om hand av @%(handle)s.",
    "Claim the case": "Ta ärendet",
    "Decide": "Besluta",
    "Decision": "Beslut",
    "Choose…": "Välj …",
    "Shown to the author and kept in the audit log.": "Visas för upphovspersonen och sparas i granskningsloggen.",
    "Suspended until": "Avstängd till",
    "Only for a suspension; Swedish time.": "Bara vid avstängning; svensk tid.",
    "Record the decision": "Spara beslutet",
    "There is no such case, or it is not yours to see.": "Ärendet finns inte, eller så är det inte ditt att se.",
    "You released the case.": "Du lämnade ifrån dig ärendet.",
    "The case is yours.": "Ärendet är ditt.",
    "Choose a decision.": "Välj ett beslut.",
    "Give a reason; the author sees it.": "Ange ett skäl; upphovspersonen ser det.",
    "Give a date and time.": "Ange datum och tid.",
    "A suspension needs an end.": "En avstängning behöver ett slut.",
    "Decision recorded: %(action)s.": "Beslutet är sparat: %(action)s.",
    # History
    "Warnings": "Varningar",
    "Suspensions": "Avstängningar",
    "suspended now": "avstängd nu",
    "Hidden": "Dolt",
    "Removed": "Borttaget",
    "Bans": "Permanenta avstängningar",
    "banned now": "permanent avstängd nu",
    "Earlier decisions": "Tidigare beslut",
    "Recent content": "Senaste innehåll",
    "Moderation history": "Modereringshistorik",
    # Members
    "Find a member": "Hitta en medlem",
    "Handle": "Användarnamn",
    "Without the @, e.g. anna_svensson.": "Utan @, t.ex. anna_svensson.",
    "Look up": "Sök",
    "Headline": "Rubrik",
    "Role": "Roll",
    "Member since": "Medlem sedan",
    "Followers": "Följare",
    "Organisation": "Organisation",
    "Municipality": "Kommun",
    "Suspended": "Avstängd",
    "Banned": "Permanent avstängd",
    "Account": "Konto",
    "erased by the member": "raderat av medlemmen",
    "Act on this member": "Agera mot medlemmen",
    "Shown to the member and kept in the audit log.": "Visas för medlemmen och sparas i granskningsloggen.",
    "No member with the handle %(handle)s.": "Ingen medlem har användarnamnet %(handle)s.",
    "Give a reason; the member sees it.": "Ange ett skäl; medlemmen ser det.",
    # Organisations
    "Which organisations": "Vilka organisationer",
    "Awaiting verification": "Väntar på verifiering",
    "Verified": "Verifierade",
    "Kind": "Typ",
    "Address": "Adress",
    "Website": "Webbplats",
    "Place": "Ort",
    "Joined": "Gick med",
    "Reason for withdrawing the verification of %(name)s": "Skäl att dra tillbaka verifieringen av %(name)s",
    "Reason for verifying %(name)s": "Skäl att verifiera %(name)s",
    "Withdraw verification": "Dra tillbaka verifieringen",
    "Verify": "Verifiera",
    "No organisations here.": "Inga organisationer här.",
    "%(num)s organisation": "%(num)s organisation",
    "%(num)s organisations": "%(num)s organisationer",
    "Give a reason; it goes in the audit log.": "Ange ett skäl; det sparas i granskningsloggen.",
    "%(name)s is verified.": "%(name)s är verifierad.",
    "%(name)s is no longer verified.": "%(name)s är inte längre verifierad.",
    # Hub moderators
    "Hub moderators work the reports about content in their hub. Appointing one makes them a moderator of the "
    "hub; the member must belong to it.": (
        "Hubbmoderatorer hanterar anmälningar om innehåll i sin hubb. Den du utser blir moderator i hubben; "
        "medlemmen måste tillhöra den."
    ),
    "As in the hub's link, e.g. kraftsamlingen.": "Som i hubbens länk, t.ex. kraftsamlingen.",
    "Member's handle": "Medlemmens användarnamn",
    "Kept in the audit log.": "Sparas i granskningsloggen.",
    "Remove them as moderator instead": "Ta i stället bort personen som moderator",
    "Give the hub's address.": "Ange hubbens adress.",
    "Give the member's handle.": "Ange medlemmens användarnamn.",
    "@%(member)s no longer moderates %(hub)s.": "@%(member)s modererar inte längre %(hub)s.",
    "@%(member)s now moderates %(hub)s.": "@%(member)s modererar nu %(hub)s.",
    # Audit log
    "Filter the audit log": "Filtrera granskningsloggen",
    "Moderator's handle": "Moderatorns användarnamn",
    "Action": "Åtgärd",
    "Target": "Gäller",
    "From": "Från",
    "To": "Till",
    "Show entries": "Visa poster",
    "When": "När",
    "Who": "Vem",
    "Change": "Ändring",
    "The case": "Ärendet",
    "Before and after": "Före och efter",
    "No entries match.": "Inga poster matchar.",
    "Give a date as YYYY-MM-DD.": "Ange datum som ÅÅÅÅ-MM-DD.",
    "Content": "Innehåll",
    # Failed jobs
    "Jobs that failed every attempt. Replay one once its cause is fixed; it leaves the list when it succeeds.": (
        "Jobb som misslyckades vid varje försök. Kör om ett när orsaken är åtgärdad; det försvinner från "
        "listan när det lyckas."
    ),
    "Service": "Tjänst",
    "Key": "Nyckel",
    "Attempts": "Försök",
    "Failed for good": "Gav upp",
    "Replays": "Omkörningar",
    "Argument": "Argument",
    "Replay %(job)s": "Kör om %(job)s",
    "No failed jobs.": "Inga misslyckade jobb.",
    "The job runs again; it leaves the list when it succeeds.": (
        "Jobbet körs igen; det försvinner från listan när det lyckas."
    ),
    "Feed": "Flöde",
    "Graph": "Graf",
    "Search": "Sökning",
    "Moderation": "Moderering",
    # The API's words
    "Spam": "Skräppost",
    "Harassment": "Trakasserier",
    "Misinformation": "Desinformation",
    "Illegal content": "Olagligt innehåll",
    "Personal data": "Personuppgifter",
    "Other": "Annat",
    "Post": "Inlägg",
    "Comment": "Kommentar",
    "Event": "Evenemang",
    "Member": "Medlem",
    "Open": "Öppet",
    "Resolved": "Avgjort",
    "Visible": "Synligt",
    "Anyone's": "Allas",
    "Claimed by me": "Tagna av mig",
    "Dismiss the reports": "Lämna anmälningarna utan åtgärd",
    "Hide": "Dölj",
    "Remove for good": "Ta bort för gott",
    "Restore": "Återställ",
    "Warn": "Varna",
    "Suspend": "Stäng av tillfälligt",
    "Ban": "Stäng av permanent",
    "Lift suspension": "Häv avstängningen",
    "Lift ban": "Häv den permanenta avstängningen",
    "Verify organisation": "Verifiera organisationen",
    "Appoint hub moderator": "Utse hubbmoderator",
    "Remove hub moderator": "Ta bort hubbmoderator",
    "Hidden automatically": "Dolt automatiskt",
    "Released": "Lämnat ifrån sig",
    "Reported": "Anmält",
    # Kommunkartan (the public map, services/web/karta.py)
    "Hubben's municipality map": "Hubbens kommunkarta",
    "municipality map": "kommunkartan",
    "The map": "Kartan",
    "Map and table": "Karta och tabell",
    "Open data": "Öppna data",
    "The registry is open data under CC0 1.0:": "Registret är öppna data under CC0 1.0:",
    "AI initiatives in Sweden's municipalities": "AI-initiativ i Sveriges kommuner",
    "Where municipalities, regions and their partners use AI, and what for. Choose a municipality to see its "
    "initiatives.": (
        "Var kommuner, regioner och deras partner använder AI, och till vad. Välj en kommun för att se dess initiativ."
    ),
    "Filter the initiatives": "Filtrera initiativen",
    "Area": "Område",
    "All areas": "Alla områden",
    "All statuses": "Alla statusar",
    "AI technique": "AI-teknik",
    "AI techniques": "AI-tekniker",
    "For example språkmodeller or bildanalys.": "Till exempel språkmodeller eller bildanalys.",
    "Show": "Visa",
    "Clear the filters": "Rensa filtren",
    "%(num)s initiative": "%(num)s initiativ",
    "%(num)s initiatives": "%(num)s initiativ",
    "%(n)s municipality": "%(n)s kommun",
    "%(n)s municipalities": "%(n)s kommuner",
    "Map": "Karta",
    "The map needs JavaScript. The table below has the same numbers.": (
        "Kartan behöver JavaScript. Tabellen nedan har samma siffror."
    ),
    "Municipalities with initiatives": "Kommuner med initiativ",
    "Every municipality is in the table below.": "Alla kommuner finns i tabellen nedan.",
    "Initiatives per municipality": "Initiativ per kommun",
    "Public initiatives per municipality, filtered as chosen above.": (
        "Publika initiativ per kommun, filtrerade som du valt ovan."
    ),
    "Public initiatives per municipality.": "Publika initiativ per kommun.",
    "An initiative that covers several municipalities counts in each.": (
        "Ett initiativ som omfattar flera kommuner räknas i var och en."
    ),
    "County": "Län",
    "Initiatives": "Initiativ",
    "Details": "Detaljer",
    "The initiatives in %(name)s": "Initiativen i %(name)s",
    "No public initiatives match the filters.": "Inga publika initiativ matchar filtren.",
    "Initiatives per county": "Initiativ per län",
    "An initiative counts once in each county it covers, also when it covers the whole county.": (
        "Ett initiativ räknas en gång i varje län det omfattar, även när det omfattar hela länet."
    ),
    "AI initiatives in %(name)s": "AI-initiativ i %(name)s",
    "Back to the map": "Tillbaka till kartan",
    "Filtered:": "Filtrerat:",
    "Show all": "Visa alla",
    "Partners": "Partner",
    "Funding": "Finansiering",
    "Period": "Period",
    "Seeking partners": "Söker partner",
    "Open to reuse": "Öppet för återanvändning",
    "No public initiatives in %(name)s match.": "Inga publika initiativ i %(name)s matchar.",
    "There is no area “%(value)s”. Choose one from the list.": "Det finns inget område ”%(value)s”. Välj ett i listan.",
    "There is no status “%(value)s”. Choose one from the list.": (
        "Det finns ingen status ”%(value)s”. Välj en i listan."
    ),
    "A technique is at most %(n)s characters.": "En teknik är högst %(n)s tecken.",
    "There is no municipality with the code %(code)s.": "Det finns ingen kommun med koden %(code)s.",
    "The page link is not valid.": "Sidlänken är inte giltig.",
    "Map of Sweden with AI initiatives per municipality": "Karta över Sverige med AI-initiativ per kommun",
    "%(name)s: %(count)s initiatives": "%(name)s: %(count)s initiativ",
    "%(name)s: 1 initiative": "%(name)s: 1 initiativ",
    "Municipalities in the map's view": "Kommuner i kartans vy",
    "No municipality with initiatives in this view. Zoom out or move the map.": (
        "Ingen kommun med initiativ i den här vyn. Zooma ut eller flytta kartan."
    ),
    "Initiatives in %(name)s": "Initiativ i %(name)s",
    "Loading…": "Hämtar …",
    "The initiatives could not be loaded.": "Initiativen kunde inte hämtas.",
    "All %(count)s initiatives in %(name)s": "Alla %(count)s initiativ i %(name)s",
    "Open as a page": "Öppna som sida",
    "Back to the municipalities in view": "Tillbaka till kommunerna i vyn",
    "The background map is not available; the markers and the table still work.": (
        "Bakgrundskartan är inte tillgänglig; markörerna och tabellen fungerar ändå."
    ),
}
