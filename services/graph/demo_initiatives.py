"""Demo initiatives for the embedded default: municipalities, regions and partners across all
21 counties and the AI work they show, so that the map (/karta) and the open data are worth
looking at on first start. Made-up examples in the shape of real municipal AI work; built
through the graph service's own functions, in a fixed order, so every start makes the same
registry. services/graph/demo.py calls `seed_initiatives` after its organisations exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph.service import initiatives, organisations
from shared.auth import SCOPES, Principal
from shared.geo import municipalities

K = c.OrganisationKind

# (slug, name, kind, municipality name or None, county code or None, description)
ORGANISATIONS: list[tuple[str, str, c.OrganisationKind, str | None, str | None, str]] = [
    ("nacka-kommun", "Nacka kommun", K.municipality, "Nacka", None, "Kommun i Stockholms län."),
    ("sodertalje-kommun", "Södertälje kommun", K.municipality, "Södertälje", None, "Kommun i Stockholms län."),
    ("botkyrka-kommun", "Botkyrka kommun", K.municipality, "Botkyrka", None, "Kommun i Stockholms län."),
    ("norrtalje-kommun", "Norrtälje kommun", K.municipality, "Norrtälje", None, "Kommun i Stockholms län."),
    ("uppsala-kommun", "Uppsala kommun", K.municipality, "Uppsala", None, "Kommun i Uppsala län."),
    ("osthammars-kommun", "Östhammars kommun", K.municipality, "Östhammar", None, "Kommun i Uppsala län."),
    ("eskilstuna-kommun", "Eskilstuna kommun", K.municipality, "Eskilstuna", None, "Kommun i Södermanland."),
    ("nykopings-kommun", "Nyköpings kommun", K.municipality, "Nyköping", None, "Kommun i Södermanland."),
    ("linkopings-kommun", "Linköpings kommun", K.municipality, "Linköping", None, "Kommun i Östergötland."),
    ("norrkopings-kommun", "Norrköpings kommun", K.municipality, "Norrköping", None, "Kommun i Östergötland."),
    ("jonkopings-kommun", "Jönköpings kommun", K.municipality, "Jönköping", None, "Kommun i Jönköpings län."),
    ("varnamo-kommun", "Värnamo kommun", K.municipality, "Värnamo", None, "Kommun i Jönköpings län."),
    ("vaxjo-kommun", "Växjö kommun", K.municipality, "Växjö", None, "Kommun i Kronobergs län."),
    ("ljungby-kommun", "Ljungby kommun", K.municipality, "Ljungby", None, "Kommun i Kronobergs län."),
    ("kalmar-kommun", "Kalmar kommun", K.municipality, "Kalmar", None, "Kommun i Kalmar län."),
    ("vasterviks-kommun", "Västerviks kommun", K.municipality, "Västervik", None, "Kommun i Kalmar län."),
    ("region-gotland", "Region Gotland", K.municipality, "Gotland", None, "Kommun och region på Gotland."),
    ("karlskrona-kommun", "Karlskrona kommun", K.municipality, "Karlskrona", None, "Kommun i Blekinge."),
    ("karlshamns-kommun", "Karlshamns kommun", K.municipality, "Karlshamn", None, "Kommun i Blekinge."),
    ("malmo-stad", "Malmö stad", K.municipality, "Malmö", None, "Kommun i Skåne."),
    ("lunds-kommun", "Lunds kommun", K.municipality, "Lund", None, "Kommun i Skåne."),
    ("helsingborgs-stad", "Helsingborgs stad", K.municipality, "Helsingborg", None, "Kommun i Skåne."),
    ("kristianstads-kommun", "Kristianstads kommun", K.municipality, "Kristianstad", None, "Kommun i Skåne."),
    ("halmstads-kommun", "Halmstads kommun", K.municipality, "Halmstad", None, "Kommun i Hallands län."),
    ("varbergs-kommun", "Varbergs kommun", K.municipality, "Varberg", None, "Kommun i Hallands län."),
    ("boras-stad", "Borås Stad", K.municipality, "Borås", None, "Kommun i Västra Götaland."),
    ("trollhattans-stad", "Trollhättans stad", K.municipality, "Trollhättan", None, "Kommun i Västra Götaland."),
    ("skovde-kommun", "Skövde kommun", K.municipality, "Skövde", None, "Kommun i Västra Götaland."),
    ("uddevalla-kommun", "Uddevalla kommun", K.municipality, "Uddevalla", None, "Kommun i Västra Götaland."),
    ("karlstads-kommun", "Karlstads kommun", K.municipality, "Karlstad", None, "Kommun i Värmland."),
    ("arvika-kommun", "Arvika kommun", K.municipality, "Arvika", None, "Kommun i Värmland."),
    ("orebro-kommun", "Örebro kommun", K.municipality, "Örebro", None, "Kommun i Örebro län."),
    ("karlskoga-kommun", "Karlskoga kommun", K.municipality, "Karlskoga", None, "Kommun i Örebro län."),
    ("vasteras-stad", "Västerås stad", K.municipality, "Västerås", None, "Kommun i Västmanland."),
    ("sala-kommun", "Sala kommun", K.municipality, "Sala", None, "Kommun i Västmanland."),
    ("falu-kommun", "Falu kommun", K.municipality, "Falun", None, "Kommun i Dalarna."),
    ("borlange-kommun", "Borlänge kommun", K.municipality, "Borlänge", None, "Kommun i Dalarna."),
    ("mora-kommun", "Mora kommun", K.municipality, "Mora", None, "Kommun i Dalarna."),
    ("gavle-kommun", "Gävle kommun", K.municipality, "Gävle", None, "Kommun i Gävleborg."),
    ("hudiksvalls-kommun", "Hudiksvalls kommun", K.municipality, "Hudiksvall", None, "Kommun i Gävleborg."),
    ("sundsvalls-kommun", "Sundsvalls kommun", K.municipality, "Sundsvall", None, "Kommun i Västernorrland."),
    ("ornskoldsviks-kommun", "Örnsköldsviks kommun", K.municipality, "Örnsköldsvik", None, "Kommun i Västernorrland."),
    ("ostersunds-kommun", "Östersunds kommun", K.municipality, "Östersund", None, "Kommun i Jämtlands län."),
    ("are-kommun", "Åre kommun", K.municipality, "Åre", None, "Kommun i Jämtlands län."),
    ("skelleftea-kommun", "Skellefteå kommun", K.municipality, "Skellefteå", None, "Kommun i Västerbotten."),
    ("lycksele-kommun", "Lycksele kommun", K.municipality, "Lycksele", None, "Kommun i Västerbotten."),
    ("lulea-kommun", "Luleå kommun", K.municipality, "Luleå", None, "Kommun i Norrbotten."),
    ("pitea-kommun", "Piteå kommun", K.municipality, "Piteå", None, "Kommun i Norrbotten."),
    ("kiruna-kommun", "Kiruna kommun", K.municipality, "Kiruna", None, "Kommun i Norrbotten."),
    ("region-ostergotland", "Region Östergötland", K.region, None, "05", "Regionen för Östergötlands 13 kommuner."),
    ("region-vasterbotten", "Region Västerbotten", K.region, None, "24", "Regionen för Västerbottens 15 kommuner."),
    (
        "region-jamtland-harjedalen",
        "Region Jämtland Härjedalen",
        K.region,
        None,
        "23",
        "Regionen för Jämtlands läns åtta kommuner.",
    ),
    ("umea-universitet", "Umeå universitet", K.academia, "Umeå", None, "Forskning om AI och samhälle."),
    ("linkopings-universitet", "Linköpings universitet", K.academia, "Linköping", None, "Forskning och utbildning."),
    ("rise", "RISE Research Institutes of Sweden", K.agency, None, "01", "Statligt forskningsinstitut."),
    ("skr", "Sveriges Kommuner och Regioner", K.other, None, "01", "Kommunernas och regionernas organisation."),
]


@dataclass(frozen=True)
class Theme:
    title: str
    summary: str
    area: c.InitiativeArea
    techniques: tuple[str, ...]
    benefit: str
    how: str


A = c.InitiativeArea
THEMES: dict[str, Theme] = {
    "hemtjanst": Theme(
        "AI-stöd för planering i hemtjänsten",
        "Schemaläggning och ruttplanering av hemtjänstbesök som tar hänsyn till brukarnas önskemål, "
        "personalens kompetens och restider.",
        A.elderly_care,
        ("optimering", "prognoser"),
        "Mer tid hos brukarna och färre stressade omplaneringar för personalen.",
        "Planerarna får förslag på scheman som de justerar och godkänner; inga beslut fattas automatiskt.",
    ),
    "fallrisk": Theme(
        "Fallprevention med sensorer i särskilt boende",
        "Sensorer och maskininlärning upptäcker tecken på ökad fallrisk, så att personalen kan sätta in "
        "åtgärder i tid.",
        A.elderly_care,
        ("maskininlärning", "sensordata"),
        "Färre fallolyckor och tryggare nätter för de boende.",
        "Ingen kamera används; sensorerna mäter rörelse, och larm går till personalen på avdelningen.",
    ),
    "bygglov": Theme(
        "Chattbot för bygglovsfrågor",
        "En chattbot som svarar på vanliga frågor om bygglov, attefallshus och anmälningsplikt dygnet runt.",
        A.urban_planning,
        ("språkmodeller", "chattbot"),
        "Kortare väntetider för medborgarna och mer tid för handläggarna att handlägga ärenden.",
        "Svaren bygger på kommunens egna sidor och plan- och bygglagen; chattboten hänvisar till en handläggare "
        "när den är osäker.",
    ),
    "diarieforing": Theme(
        "Språkmodell för diarieföring",
        "Inkommande handlingar får förslag på ärendemening, diarieplan och sekretessmarkering.",
        A.administration,
        ("språkmodeller", "textklassificering"),
        "Snabbare och mer enhetlig diarieföring och bättre sökbarhet i allmänna handlingar.",
        "Registratorn granskar varje förslag; modellen körs i kommunens egen driftmiljö.",
    ),
    "kontaktcenter": Theme(
        "AI-assistent i kontaktcenter",
        "Talsvar och en assistent som hjälper kontaktcentrets medarbetare att hitta rätt svar under samtalet.",
        A.administration,
        ("språkmodeller", "taligenkänning"),
        "Fler ärenden löses i första kontakten.",
        "Assistenten föreslår svar ur kunskapsbanken; medarbetaren avgör vad som sägs.",
    ),
    "lasforstaelse": Theme(
        "AI-stöd för läsförståelse i grundskolan",
        "Texter anpassas till elevens nivå och eleven får frågor som tränar läsförståelse.",
        A.education,
        ("språkmodeller", "adaptivt lärande"),
        "Fler elever når kunskapskraven i svenska.",
        "Lärarna väljer texterna; inga elevuppgifter lämnar skolans plattform.",
    ),
    "skolskjuts": Theme(
        "Optimering av skolskjutsar",
        "Skolskjutsarnas rutter planeras om varje termin med optimering i stället för för hand.",
        A.transport,
        ("optimering",),
        "Kortare restider för eleverna och lägre kostnader och utsläpp.",
        "Rutterna räknas fram från elevernas adresser och skolornas tider och granskas av trafikplanerarna.",
    ),
    "orosanmalan": Theme(
        "Strukturerat stöd vid orosanmälningar",
        "Orosanmälningar sorteras efter innehåll så att brådskande ärenden hamnar först hos socialsekreterarna.",
        A.social_services,
        ("textklassificering", "språkmodeller"),
        "Snabbare skyddsbedömningar för barn som behöver hjälp.",
        "Modellen prioriterar bara ordningen; varje anmälan läses och bedöms av en socialsekreterare.",
    ),
    "bistand": Theme(
        "Automatiserad handläggning av ekonomiskt bistånd",
        "Regelstyrd automatisering av återkommande ansökningar om ekonomiskt bistånd.",
        A.social_services,
        ("automatisering", "regelmotorer"),
        "Handläggarna får mer tid för samtal och insatser som leder till egen försörjning.",
        "Endast beviljanden automatiseras; avslag och avvikelser går alltid till en handläggare.",
    ),
    "vattenlackor": Theme(
        "Läcksökning i vattenledningsnätet",
        "Flödes- och tryckdata analyseras för att hitta läckor innan de blir vattenläckor på gatan.",
        A.environment,
        ("anomalidetektion", "prognoser"),
        "Mindre förlust av dricksvatten och färre akuta grävningar.",
        "Larm skickas till driftcentralen med en uppskattning av var läckan finns.",
    ),
    "energi": Theme(
        "Prognoser för energianvändning i kommunens fastigheter",
        "Maskininlärning förutsäger värme- och elbehov i skolor och förskolor och styr ventilationen därefter.",
        A.environment,
        ("prognoser", "maskininlärning"),
        "Lägre energikostnader och utsläpp utan sämre inomhusklimat.",
        "Styrningen sker i fastighetssystemen; drifttekniker kan alltid ta över manuellt.",
    ),
    "gatuskador": Theme(
        "Bildanalys av gatuskador",
        "Kameror på kommunens fordon fotograferar gatorna och bildanalys hittar potthål och sprickor.",
        A.transport,
        ("bildanalys", "datorseende"),
        "Säkrare gator för cyklister och fotgängare och bättre underhållsplanering.",
        "Ansikten och registreringsskyltar maskeras innan bilderna sparas.",
    ),
    "snorojning": Theme(
        "Smartare snöröjning med väderprognoser",
        "Väderprognoser och vägdata styr när och var snöröjning och halkbekämpning sätts in.",
        A.transport,
        ("prognoser", "optimering"),
        "Framkomliga gång- och cykelvägar tidigare på morgonen.",
        "Arbetsledarna får förslag på insatser per område inför varje skift.",
    ),
    "nedskrapning": Theme(
        "Bildanalys för nedskräpning i parker",
        "Bilder från papperskorgarnas sensorer och parkpersonalens rundor visar var skräpet samlas.",
        A.environment,
        ("bildanalys", "sensordata"),
        "Renare parker och tömning där den behövs.",
        "Inga personer fotograferas; sensorerna mäter fyllnadsgrad.",
    ),
    "bibliotek": Theme(
        "Boktips med rekommendationssystem på biblioteket",
        "Låntagare får boktips utifrån vad andra med liknande intressen har lånat.",
        A.culture,
        ("rekommendationssystem",),
        "Fler hittar litteratur de annars inte hade upptäckt.",
        "Tipsen bygger på anonymiserad lånestatistik och låntagaren väljer själv att slå på dem.",
    ),
    "arkiv": Theme(
        "Transkribering av handskrivna arkivhandlingar",
        "Handskriftsigenkänning gör äldre protokoll och kyrkoböcker sökbara.",
        A.culture,
        ("handskriftsigenkänning", "bildanalys"),
        "Släktforskare, forskare och skolor når kulturarvet digitalt.",
        "Frivilliga granskar och rättar transkriberingarna.",
    ),
    "matchning": Theme(
        "Matchning av arbetssökande mot praktikplatser",
        "Arbetsmarknadsenheten får förslag på praktikplatser som passar deltagarnas erfarenheter och mål.",
        A.labour_market,
        ("maskininlärning", "matchning"),
        "Fler deltagare går vidare till arbete eller studier.",
        "Handledarna gör matchningen tillsammans med deltagaren; förslagen är ett stöd.",
    ),
    "sfi": Theme(
        "Språkstöd för nyanlända inom SFI",
        "Talträning och översättning som stöd för elever i svenska för invandrare.",
        A.labour_market,
        ("taligenkänning", "översättning", "språkmodeller"),
        "Snabbare språkinlärning och väg till arbete.",
        "Eleverna tränar uttal och ordförråd i en app; lärarna ser framstegen.",
    ),
    "medborgardialog": Theme(
        "Analys av synpunkter i medborgardialoger",
        "Tusentals fritextsvar från medborgardialoger sammanfattas och grupperas efter tema.",
        A.democracy,
        ("språkmodeller", "textanalys"),
        "Politiker och tjänstepersoner får en rättvisande bild av vad invånarna tycker.",
        "Alla svar finns kvar att läsa; sammanfattningen redovisas öppet med metod.",
    ),
    "protokoll": Theme(
        "Automatisk protokollföring i nämnder",
        "Taligenkänning ger ett utkast till protokoll från nämndernas sammanträden.",
        A.democracy,
        ("taligenkänning", "språkmodeller"),
        "Snabbare justerade protokoll och mer tid för nämndsekreterarna.",
        "Nämndsekreteraren redigerar utkastet; inspelningen raderas efter justering.",
    ),
    "klarsprak": Theme(
        "Klarspråk i beslut och brev",
        "En skrivassistent föreslår enklare formuleringar i kommunens beslut och brev till invånare.",
        A.administration,
        ("språkmodeller", "klarspråk"),
        "Invånarna förstår sina beslut och färre ringer för att fråga.",
        "Handläggaren väljer vilka förslag som används.",
    ),
    "triage": Theme(
        "Digital triagering i primärvården",
        "Patienternas symtombeskrivningar sorteras så att de får rätt vårdnivå snabbare.",
        A.health,
        ("språkmodeller", "beslutsstöd"),
        "Kortare väntan för dem som behöver vård mest.",
        "Sjuksköterskor bedömer varje ärende; modellen föreslår bara prioritet.",
    ),
    "rontgen": Theme(
        "Bildanalys av röntgenbilder för frakturer",
        "Bildanalys markerar misstänkta frakturer som radiologen tittar på först.",
        A.health,
        ("bildanalys", "djupinlärning"),
        "Snabbare diagnos på akuten.",
        "Radiologen ställer alltid diagnosen.",
    ),
    "detaljplaner": Theme(
        "Sökning i detaljplaner med språkmodeller",
        "Invånare och företag ställer frågor om vad som gäller för en fastighet och får svar med hänvisning "
        "till detaljplanen.",
        A.urban_planning,
        ("språkmodeller", "semantisk sökning"),
        "Enklare att förstå vad man får bygga.",
        "Svaren länkar alltid till planbestämmelsen de bygger på.",
    ),
    "tvilling": Theme(
        "Digital tvilling av stadskärnan",
        "En 3D-modell av staden där nya byggnader, trafik och dagvatten kan simuleras före beslut.",
        A.urban_planning,
        ("simulering", "prognoser"),
        "Bättre underlag för stadsplanering och dialog med invånarna.",
        "Modellen byggs av öppna geodata och kommunens egna mätningar.",
    ),
    "kollektivtrafik": Theme(
        "Prognoser för resande i kollektivtrafiken",
        "Resandeprognoser per linje och timme hjälper till att sätta in rätt antal bussar.",
        A.transport,
        ("prognoser", "maskininlärning"),
        "Färre fulla bussar och bättre nyttjade resurser.",
        "Prognoserna bygger på anonymiserade resedata.",
    ),
    "volontarer": Theme(
        "Matchning av volontärer och föreningar",
        "En tjänst där volontärer och föreningar hittar varandra efter intressen och tillgänglig tid.",
        A.other,
        ("rekommendationssystem",),
        "Fler engagerar sig ideellt och föreningarna får hjälp.",
        "Volontärerna bestämmer själva vilka uppgifter som visas för föreningarna.",
    ),
    "fakturor": Theme(
        "Fakturakontroll med maskininlärning",
        "Avvikande leverantörsfakturor flaggas innan de betalas.",
        A.administration,
        ("anomalidetektion", "maskininlärning"),
        "Mindre risk för felaktiga utbetalningar och bedrägerier.",
        "Ekonomihandläggare granskar de flaggade fakturorna.",
    ),
    "upphandling": Theme(
        "AI-stöd vid upphandling",
        "Förfrågningsunderlag och anbud sammanfattas och jämförs mot kraven.",
        A.administration,
        ("språkmodeller",),
        "Snabbare upphandlingar med samma rättssäkerhet.",
        "Utvärderingen görs av upphandlarna; stödet pekar ut var i anbuden kraven besvaras.",
    ),
    "naturvarden": Theme(
        "Kartläggning av naturvärden med satellitbilder",
        "Satellit- och flygbilder analyseras för att hitta värdefulla naturmiljöer och förändringar.",
        A.environment,
        ("bildanalys", "fjärranalys"),
        "Bättre underlag för naturvård och fysisk planering.",
        "Resultaten verifieras med fältbesök.",
    ),
    "franvaro": Theme(
        "Tidiga signaler om skolfrånvaro",
        "Mönster i frånvarodata visar tidigt vilka elever som riskerar att bli hemmasittare.",
        A.education,
        ("prognoser",),
        "Elevhälsan kan sätta in stöd innan frånvaron blir långvarig.",
        "Signalerna går till elevhälsoteamet, som tillsammans med vårdnadshavare avgör vad som görs.",
    ),
    "ungdomschatt": Theme(
        "Anonym chatt för unga med stöd av språkmodell",
        "Unga kan ställa frågor anonymt och får svar av fältassistenter med hjälp av en språkmodell.",
        A.social_services,
        ("språkmodeller", "chattbot"),
        "Fler unga får stöd tidigt.",
        "En människa skickar varje svar; språkmodellen föreslår formuleringar och hänvisningar.",
    ),
    "turism": Theme(
        "Flerspråkig besöksinformation med språkmodeller",
        "Besökare får information om evenemang och sevärdheter på sitt eget språk.",
        A.culture,
        ("översättning", "språkmodeller"),
        "Fler besökare och en levande besöksnäring.",
        "Texterna utgår från kommunens egna evenemangskalender.",
    ),
    "avfall": Theme(
        "Smartare avfallshämtning",
        "Fyllnadsgrad och prognoser styr hämtningen av återvinning och hushållsavfall.",
        A.environment,
        ("prognoser", "optimering", "sensordata"),
        "Färre onödiga körningar och mindre utsläpp.",
        "Rutterna planeras om varje vecka utifrån prognoserna.",
    ),
    "oversvamning": Theme(
        "Översvämningsprognoser för krisberedskap",
        "Väderdata och vattennivåer ger tidiga varningar om översvämning i utsatta områden.",
        A.other,
        ("prognoser", "maskininlärning"),
        "Bättre beredskap och mindre skador vid skyfall och vårflod.",
        "Varningarna går till räddningstjänsten och kommunens krisledning.",
    ),
    "vikarier": Theme(
        "Schemaläggning av vikarier i förskolan",
        "Prognoser för sjukfrånvaro och optimering ger förslag på vikariebemanning.",
        A.education,
        ("prognoser", "optimering"),
        "Tryggare barngrupper och mindre tid för chefer att ringa runt.",
        "Rektor godkänner bemanningen.",
    ),
}

FUNDERS: dict[str, tuple[str, str | None]] = {
    "vinnova": ("Vinnova", "Utmaningsdriven innovation"),
    "vinnova-ai": ("Vinnova", "AI i offentlig sektor"),
    "eruf": ("Europeiska regionala utvecklingsfonden", "Regionalfondsprogram"),
    "esf": ("Europeiska socialfonden+", "ESF+"),
    "iis": ("Internetstiftelsen", "Internetfonden"),
    "region": ("Regionens utvecklingsmedel", None),
}


@dataclass(frozen=True)
class Plan:
    """One initiative: its owner (an organisation's slug), its theme and status, and the month
    it started. `places` are municipality names or county codes; default the owner's own."""

    owner: str
    theme: str
    status: c.InitiativeStatus
    starts: str
    places: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    funder: str | None = None
    ends: str | None = None
    seeking: bool = False
    reuse: bool = False  # reuses the first initiative of its theme (another organisation's)
    title: str | None = None
    visibility: c.InitiativeVisibility = c.InitiativeVisibility.public
    extra_techniques: tuple[str, ...] = field(default=())


S = c.InitiativeStatus
ORG_ONLY = c.InitiativeVisibility.organisation
NORRBOTTEN = ("Luleå", "Piteå", "Boden", "Kalix", "Älvsbyn", "Haparanda", "Överkalix", "Övertorneå", "Arvidsjaur")
SJUHARAD = ("Borås", "Mark", "Ulricehamn", "Svenljunga", "Tranemo", "Herrljunga", "Vårgårda", "Bollebygd")
FYRBODAL = ("Uddevalla", "Trollhättan", "Vänersborg", "Lysekil", "Strömstad", "Munkedal", "Tanum", "Sotenäs")

PLANS: tuple[Plan, ...] = (
    # Stockholms län
    Plan("stockholms-stad", "kontaktcenter", S.in_production, "2022-09", funder="vinnova"),
    Plan("stockholms-stad", "medborgardialog", S.pilot, "2024-02", partners=("rise",)),
    Plan("nacka-kommun", "diarieforing", S.in_production, "2023-01", partners=("skr",)),
    Plan("nacka-kommun", "lasforstaelse", S.pilot, "2024-08", funder="vinnova-ai"),
    Plan("sodertalje-kommun", "bistand", S.in_production, "2021-05"),
    Plan("botkyrka-kommun", "sfi", S.pilot, "2024-01", funder="esf", places=("Botkyrka", "Huddinge", "Salem")),
    Plan("norrtalje-kommun", "hemtjanst", S.pilot, "2024-10", reuse=True),
    # Uppsala län
    Plan("uppsala-kommun", "protokoll", S.pilot, "2024-03", funder="vinnova-ai"),
    Plan("osthammars-kommun", "naturvarden", S.idea, "2025-09", seeking=True, places=("Östhammar", "Tierp", "Heby")),
    # Södermanland
    Plan("eskilstuna-kommun", "matchning", S.in_production, "2022-06", funder="esf"),
    Plan("nykopings-kommun", "skolskjuts", S.in_production, "2023-08", places=("Nyköping", "Oxelösund", "Gnesta")),
    # Östergötland
    Plan("linkopings-kommun", "tvilling", S.in_production, "2021-10", partners=("linkopings-universitet",)),
    Plan("linkopings-kommun", "franvaro", S.idea, "2025-11", seeking=True),
    Plan("norrkopings-kommun", "vattenlackor", S.in_production, "2022-03"),
    Plan(
        "region-ostergotland",
        "triage",
        S.pilot,
        "2024-04",
        places=("05",),
        partners=("linkopings-universitet",),
        funder="vinnova",
    ),
    # Jönköpings län
    Plan("jonkopings-kommun", "fakturor", S.in_production, "2023-02"),
    Plan("varnamo-kommun", "upphandling", S.pilot, "2025-01", places=("Värnamo", "Gislaved", "Gnosjö", "Vaggeryd")),
    # Kronobergs län
    Plan("vaxjo-kommun", "bygglov", S.in_production, "2022-04", funder="vinnova-ai"),
    Plan("ljungby-kommun", "snorojning", S.ended, "2022-11", ends="2024-03"),
    # Kalmar län
    Plan("kalmar-kommun", "turism", S.in_production, "2023-05", places=("Kalmar", "Mörbylånga", "Borgholm")),
    Plan("vasterviks-kommun", "arkiv", S.pilot, "2024-02", funder="iis"),
    # Gotland
    Plan("region-gotland", "turism", S.pilot, "2024-05", reuse=True),
    Plan("region-gotland", "vattenlackor", S.in_production, "2023-03", reuse=True),
    # Blekinge
    Plan("karlskrona-kommun", "diarieforing", S.pilot, "2024-09", reuse=True),
    Plan("karlshamns-kommun", "oversvamning", S.idea, "2025-12", seeking=True, places=("Karlshamn", "Olofström")),
    # Skåne
    Plan("malmo-stad", "orosanmalan", S.pilot, "2024-03", partners=("rise",)),
    Plan("malmo-stad", "ungdomschatt", S.pilot, "2025-02", funder="iis"),
    Plan("lunds-kommun", "lasforstaelse", S.in_production, "2023-01", reuse=True),
    Plan("helsingborgs-stad", "gatuskador", S.in_production, "2021-11", funder="vinnova"),
    Plan("helsingborgs-stad", "fallrisk", S.pilot, "2024-04"),
    Plan("kristianstads-kommun", "avfall", S.in_production, "2023-06", reuse=True),
    Plan(
        "region-skane",
        "rontgen",
        S.in_production,
        "2022-02",
        places=("12",),
        partners=("lunds-kommun", "malmo-stad"),
        funder="vinnova",
    ),
    Plan("region-skane", "triage", S.idea, "2026-02", places=("12",), visibility=ORG_ONLY, title="Förstudie: triage"),
    # Hallands län
    Plan("halmstads-kommun", "detaljplaner", S.pilot, "2024-10"),
    Plan("varbergs-kommun", "medborgardialog", S.in_production, "2023-03", reuse=True),
    # Västra Götaland
    Plan("goteborgs-stad", "hemtjanst", S.in_production, "2021-03", funder="vinnova"),
    Plan("goteborgs-stad", "kontaktcenter", S.in_production, "2023-05", reuse=True),
    Plan("goteborgs-stad", "tvilling", S.pilot, "2024-01", reuse=True, partners=("rise",)),
    Plan("goteborgs-stad", "upphandling", S.idea, "2025-09", visibility=ORG_ONLY, title="Idé: anbudsjämförelse"),
    Plan(
        "boras-stad",
        "matchning",
        S.pilot,
        "2024-06",
        reuse=True,
        places=SJUHARAD,
        funder="esf",
        title="Gemensam matchningstjänst i Sjuhärad",
    ),
    Plan(
        "trollhattans-stad",
        "bygglov",
        S.in_production,
        "2023-10",
        reuse=True,
        places=FYRBODAL,
        partners=("uddevalla-kommun",),
        title="Gemensam bygglovschattbot i Fyrbodal",
    ),
    Plan("skovde-kommun", "franvaro", S.pilot, "2024-09", reuse=True, partners=("skr",)),
    Plan("uddevalla-kommun", "protokoll", S.in_production, "2023-11", reuse=True),
    # Värmland
    Plan("karlstads-kommun", "detaljplaner", S.in_production, "2023-06", reuse=True, funder="vinnova-ai"),
    Plan("arvika-kommun", "hemtjanst", S.pilot, "2025-02", reuse=True, places=("Arvika", "Eda", "Årjäng")),
    # Örebro län
    Plan("orebro-kommun", "orosanmalan", S.idea, "2025-06", reuse=True, seeking=True),
    Plan("orebro-kommun", "bibliotek", S.in_production, "2022-10", reuse=True),
    Plan("karlskoga-kommun", "vikarier", S.pilot, "2024-11", reuse=True, places=("Karlskoga", "Degerfors")),
    # Västmanland
    Plan("vasteras-stad", "energi", S.in_production, "2022-05", reuse=True),
    Plan("vasteras-stad", "sfi", S.pilot, "2024-09", reuse=True),
    Plan("sala-kommun", "diarieforing", S.idea, "2025-07", reuse=True, places=("Sala", "Heby")),
    # Dalarna
    Plan("falu-kommun", "arkiv", S.in_production, "2022-09", reuse=True),
    Plan("borlange-kommun", "kollektivtrafik", S.pilot, "2024-04", reuse=True, places=("Borlänge", "Falun", "Gagnef")),
    Plan(
        "mora-kommun",
        "turism",
        S.pilot,
        "2024-12",
        reuse=True,
        places=("Mora", "Orsa", "Älvdalen", "Malung-Sälen"),
        funder="eruf",
    ),
    # Gävleborg
    Plan("gavle-kommun", "gatuskador", S.pilot, "2024-03", reuse=True),
    Plan("gavle-kommun", "klarsprak", S.in_production, "2023-09", reuse=True),
    Plan(
        "hudiksvalls-kommun",
        "hemtjanst",
        S.idea,
        "2025-10",
        reuse=True,
        seeking=True,
        places=("Hudiksvall", "Nordanstig", "Ljusdal"),
    ),
    # Västernorrland
    Plan("sundsvalls-kommun", "bistand", S.in_production, "2022-01", reuse=True),
    Plan("sundsvalls-kommun", "volontarer", S.pilot, "2024-08", partners=("civilsamhallets-ai-forum",)),
    Plan("ornskoldsviks-kommun", "snorojning", S.in_production, "2023-11", reuse=True),
    # Jämtlands län
    Plan("ostersunds-kommun", "kontaktcenter", S.pilot, "2024-05", reuse=True),
    Plan("are-kommun", "turism", S.in_production, "2023-12", reuse=True, places=("Åre", "Krokom")),
    Plan(
        "region-jamtland-harjedalen",
        "triage",
        S.in_production,
        "2023-04",
        reuse=True,
        places=("23",),
        funder="eruf",
    ),
    # Västerbotten
    Plan("umea-kommun", "lasforstaelse", S.pilot, "2024-01", reuse=True, partners=("umea-universitet",)),
    Plan("umea-kommun", "energi", S.in_production, "2022-09", reuse=True),
    Plan("umea-kommun", "oversvamning", S.pilot, "2025-04", reuse=True, partners=("umea-universitet",)),
    Plan("skelleftea-kommun", "matchning", S.in_production, "2023-03", reuse=True, funder="esf"),
    Plan(
        "lycksele-kommun",
        "hemtjanst",
        S.pilot,
        "2024-10",
        reuse=True,
        places=("Lycksele", "Storuman", "Sorsele", "Malå", "Vilhelmina"),
        funder="eruf",
        title="Hemtjänstplanering i glesbygd",
    ),
    Plan(
        "region-vasterbotten",
        "rontgen",
        S.pilot,
        "2024-06",
        reuse=True,
        places=("24",),
        partners=("umea-universitet",),
    ),
    # Norrbotten
    Plan(
        "lulea-kommun",
        "kontaktcenter",
        S.in_production,
        "2023-02",
        reuse=True,
        places=NORRBOTTEN,
        funder="eruf",
        title="Gemensam AI-assistent för Norrbottens kommuner",
    ),
    Plan("pitea-kommun", "protokoll", S.pilot, "2024-11", reuse=True),
    Plan("kiruna-kommun", "tvilling", S.pilot, "2024-03", reuse=True, title="Digital tvilling för stadsflytten"),
    Plan("kiruna-kommun", "snorojning", S.in_production, "2022-12", reuse=True, places=("Kiruna", "Gällivare")),
    # Networks and civil society
    Plan(
        "ai-sweden",
        "klarsprak",
        S.in_production,
        "2023-01",
        places=("Stockholm", "Göteborg", "Malmö", "Umeå", "Luleå"),
        partners=("skr",),
        funder="vinnova",
        title="Gemensam svensk språkmodell för offentlig sektor",
        extra_techniques=("öppna modeller",),
    ),
    Plan(
        "civilsamhallets-ai-forum",
        "volontarer",
        S.idea,
        "2025-11",
        seeking=True,
        places=("01",),
        title="Volontärmatchning för föreningar i Stockholms län",
    ),
    Plan(
        "rise",
        "oversvamning",
        S.ended,
        "2021-04",
        ends="2023-09",
        places=("Kristianstad", "Uppsala", "Sundsvall"),
        funder="vinnova",
        title="Testbädd för översvämningsprognoser",
    ),
)

WEBSITES: dict[str, str] = {
    "ai-sweden": "https://www.ai.se/",
    "goteborgs-stad": "https://goteborg.se/",
    "stockholms-stad": "https://start.stockholm/",
    "umea-kommun": "https://www.umea.se/",
    "region-skane": "https://www.skane.se/",
}


def _as(member_id: int) -> Principal:
    return Principal(member_id=member_id, roles=("member",), scopes=SCOPES, token_kind="jwt")


def _month(value: str) -> date:
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def _places(values: tuple[str, ...]) -> list[c.PlaceIn]:
    by_name = {m.name: m.code for m in municipalities().values()}
    out = []
    for value in values:
        if value.isdigit():
            out.append(c.PlaceIn(county_code=value))
        else:
            out.append(c.PlaceIn(municipality_code=by_name[value]))
    return out


async def seed_initiatives(session: AsyncSession, owner_id: int, orgs: dict[str, int], contacts: dict[str, int]) -> int:
    """The demo's extra organisations (made by `owner_id`, who can then edit them all) and
    their initiatives; `orgs` maps the slugs made so far to ids and gains the new ones,
    `contacts` names a demo member of an organisation to give as its contact. Returns how
    many initiatives were made."""
    actor = _as(owner_id)
    home: dict[str, str | None] = {}
    by_name = {m.name: m.code for m in municipalities().values()}
    for slug, name, kind, municipality, county, description in ORGANISATIONS:
        org = await organisations.create_organisation(
            session,
            actor,
            c.OrganisationCreateIn(
                slug=slug,
                name=name,
                kind=kind,
                municipality_code=by_name[municipality] if municipality else None,
                county_code=county,
                description=description,
            ),
        )
        org.verified = True
        orgs[slug] = org.id
        home[slug] = municipality
    first_of_theme: dict[str, tuple[str, int]] = {}
    made = 0
    # Oldest first, so a reuse link points at the theme's earliest initiative.
    for plan in sorted(PLANS, key=lambda p: p.starts):
        theme = THEMES[plan.theme]
        places = plan.places or ((home.get(plan.owner) or _home_of(plan.owner)),)
        funder, programme = FUNDERS[plan.funder] if plan.funder else (None, None)
        reuses: list[int] = []
        if plan.reuse and plan.theme in first_of_theme and first_of_theme[plan.theme][0] != plan.owner:
            reuses.append(first_of_theme[plan.theme][1])
        links = []
        if plan.owner in WEBSITES:
            links.append(c.Link(label="Organisationens webbplats", url=WEBSITES[plan.owner]))
        out = await initiatives.create_initiative(
            session,
            actor,
            orgs[plan.owner],
            c.InitiativeCreateIn(
                title=plan.title or theme.title,
                summary=theme.summary,
                description=f"{theme.summary}\n\n## Så fungerar det\n\n{theme.how}\n\n## Nytta\n\n{theme.benefit}",
                area=theme.area,
                techniques=[*theme.techniques, *plan.extra_techniques],
                status=plan.status,
                societal_benefit=theme.benefit,
                funder=funder,
                programme=programme,
                contact_member_id=contacts.get(plan.owner),
                links=links,
                starts_on=_month(plan.starts),
                ends_on=_month(plan.ends) if plan.ends else None,
                seeking_partners=plan.seeking,
                open_to_reuse=plan.theme not in first_of_theme or plan.status == S.in_production,
                visibility=plan.visibility,
                places=_places(places),
                partner_organisation_ids=[orgs[p] for p in plan.partners],
                reuses_initiative_ids=reuses,
            ),
        )
        made += 1
        if plan.visibility == c.InitiativeVisibility.public:
            first_of_theme.setdefault(plan.theme, (plan.owner, out.id))
    return made


# The demo's first organisations (services/graph/demo.py) and where they are.
_FIRST_HOMES = {"goteborgs-stad": "Göteborg", "stockholms-stad": "Stockholm", "umea-kommun": "Umeå"}


def _home_of(slug: str) -> str:
    try:
        return _FIRST_HOMES[slug]
    except KeyError:
        raise ValueError(f"demo initiative of {slug} names no places") from None
