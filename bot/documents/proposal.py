"""What a family would type, or tap, for each document datum of the form, from a verified zone:
the proposal shown before anything is stored. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.documents.mrz import Mrz
from bot.documents.names import surnames, written

# ICAO 9303's nationality codes (ISO 3166-1 alpha-3, and its own "D" for Germany and the
# British variants) to the alpha-2 codes the form keeps. Codes of no country (UTO, XXA
# stateless, UNO the United Nations) have none: the country is then asked as usual.
_ALPHA3 = (
    "AFG:AF ALA:AX ALB:AL DZA:DZ ASM:AS AND:AD AGO:AO AIA:AI ATA:AQ ATG:AG ARG:AR ARM:AM ABW:AW "
    "AUS:AU AUT:AT AZE:AZ BHS:BS BHR:BH BGD:BD BRB:BB BLR:BY BEL:BE BLZ:BZ BEN:BJ BMU:BM BTN:BT "
    "BOL:BO BES:BQ BIH:BA BWA:BW BVT:BV BRA:BR IOT:IO BRN:BN BGR:BG BFA:BF BDI:BI CPV:CV KHM:KH "
    "CMR:CM CAN:CA CYM:KY CAF:CF TCD:TD CHL:CL CHN:CN CXR:CX CCK:CC COL:CO COM:KM COG:CG COD:CD "
    "COK:CK CRI:CR CIV:CI HRV:HR CUB:CU CUW:CW CYP:CY CZE:CZ DNK:DK DJI:DJ DMA:DM DOM:DO ECU:EC "
    "EGY:EG SLV:SV GNQ:GQ ERI:ER EST:EE SWZ:SZ ETH:ET FLK:FK FRO:FO FJI:FJ FIN:FI FRA:FR GUF:GF "
    "PYF:PF ATF:TF GAB:GA GMB:GM GEO:GE DEU:DE GHA:GH GIB:GI GRC:GR GRL:GL GRD:GD GLP:GP GUM:GU "
    "GTM:GT GGY:GG GIN:GN GNB:GW GUY:GY HTI:HT HMD:HM VAT:VA HND:HN HKG:HK HUN:HU ISL:IS IND:IN "
    "IDN:ID IRN:IR IRQ:IQ IRL:IE IMN:IM ISR:IL ITA:IT JAM:JM JPN:JP JEY:JE JOR:JO KAZ:KZ KEN:KE "
    "KIR:KI PRK:KP KOR:KR KWT:KW KGZ:KG LAO:LA LVA:LV LBN:LB LSO:LS LBR:LR LBY:LY LIE:LI LTU:LT "
    "LUX:LU MAC:MO MDG:MG MWI:MW MYS:MY MDV:MV MLI:ML MLT:MT MHL:MH MTQ:MQ MRT:MR MUS:MU MYT:YT "
    "MEX:MX FSM:FM MDA:MD MCO:MC MNG:MN MNE:ME MSR:MS MAR:MA MOZ:MZ MMR:MM NAM:NA NRU:NR NPL:NP "
    "NLD:NL NCL:NC NZL:NZ NIC:NI NER:NE NGA:NG NIU:NU NFK:NF MKD:MK MNP:MP NOR:NO OMN:OM PAK:PK "
    "PLW:PW PSE:PS PAN:PA PNG:PG PRY:PY PER:PE PHL:PH PCN:PN POL:PL PRT:PT PRI:PR QAT:QA REU:RE "
    "ROU:RO RUS:RU RWA:RW BLM:BL SHN:SH KNA:KN LCA:LC MAF:MF SPM:PM VCT:VC WSM:WS SMR:SM STP:ST "
    "SAU:SA SEN:SN SRB:RS SYC:SC SLE:SL SGP:SG SXM:SX SVK:SK SVN:SI SLB:SB SOM:SO ZAF:ZA SGS:GS "
    "SSD:SS ESP:ES LKA:LK SDN:SD SUR:SR SJM:SJ SWE:SE CHE:CH SYR:SY TWN:TW TJK:TJ TZA:TZ THA:TH "
    "TLS:TL TGO:TG TKL:TK TON:TO TTO:TT TUN:TN TUR:TR TKM:TM TCA:TC TUV:TV UGA:UG UKR:UA ARE:AE "
    "GBR:GB USA:US UMI:UM URY:UY UZB:UZ VUT:VU VEN:VE VNM:VN VGB:VG VIR:VI WLF:WF ESH:EH YEM:YE "
    "ZMB:ZM ZWE:ZW RKS:XK D:DE GBD:GB GBN:GB GBO:GB GBP:GB GBS:GB"
)
NATIONALITIES: dict[str, str] = dict(pair.split(":", 1) for pair in _ALPHA3.split())

# The data an identity document states, by the names the form's fields use for them.
GIVEN_NAMES = "given_names"
FATHER_SURNAME = "father_surname"
MOTHER_SURNAME = "mother_surname"
BIRTH_DATE = "birth_date"
COUNTRY = "country"


@dataclass(frozen=True)
class Stated:
    """One datum as the family would give it: typed text, or (`chosen`) a button's value."""

    text: str
    chosen: bool = False


@dataclass(frozen=True)
class Proposal:
    """What a document says, not yet accepted. `accents_added`: names had accents put back;
    `surnames_unsure`: which surname is which is a guess; `country_from_nationality`: the
    country of birth is the nationality's (a child may have been born elsewhere)."""

    document_kind: str  # "TD1", "TD2" or "TD3"
    stated: dict[str, Stated] = field(default_factory=dict)
    accents_added: bool = False
    surnames_unsure: bool = False
    # Names this proposal among the family's photos (its buttons carry it): a button under an
    # older photo's message, or one another process showed, must not apply this one.
    ref: str = ""

    @property
    def passport(self) -> bool:
        return self.document_kind == "TD3"

    @property
    def country_from_nationality(self) -> bool:
        # The zone has no country of birth: what it proposes is the nationality's.
        return COUNTRY in self.stated


def birth_date(yymmdd: str, today: date) -> date | None:
    """A zone's two-digit year read so that nobody is born in the future; None for a date that
    does not exist."""
    year, month, day = int(yymmdd[0:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    for century in (2000, 1900):
        try:
            born = date(century + year, month, day)
        except ValueError:
            return None
        if born <= today:
            return born
    return None


def propose(zone: Mrz, today: date) -> Proposal:
    given = written(zone.secondary)
    names = surnames(zone.primary)
    stated = {
        GIVEN_NAMES: Stated(given.text),
        FATHER_SURNAME: Stated(names.paternal.text),
        # No second surname: what the question's button «No tiene segundo apellido» gives.
        MOTHER_SURNAME: Stated(names.maternal.text, chosen=not names.maternal.text),
    }
    born = birth_date(zone.birth, today)
    if born is not None:
        stated[BIRTH_DATE] = Stated(born.strftime("%d-%m-%Y"))
    country = NATIONALITIES.get(zone.nationality)
    if country is not None:
        stated[COUNTRY] = Stated(country, chosen=True)
    return Proposal(
        document_kind=zone.kind,
        stated={key: value for key, value in stated.items() if value.text or value.chosen},
        accents_added=given.accented or names.paternal.accented or names.maternal.accented,
        surnames_unsure=names.unsure,
    )
