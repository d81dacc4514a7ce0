/*
 * Time zone abbreviations as PostgreSQL reads them by default: the data below is taken from
 * PostgreSQL 17's timezone abbreviation set "Default" (src/timezone/tznames/Default, installed as
 * share/timezonesets/Default) — abbreviation, then its offset from UTC in seconds (daylight-saving
 * abbreviations include the shift), or the IANA zone whose offset at the time in question it
 * stands for. The abbreviations that mean different offsets in PostgreSQL's regional sets
 * (src/timezone/tznames/*.txt, India, Australia) are listed as ambiguous.
 *
 * That data is distributed under the PostgreSQL License:
 *
 * PostgreSQL Database Management System
 * (also known as Postgres, formerly known as Postgres95)
 *
 * Portions Copyright (c) 1996-2024, PostgreSQL Global Development Group
 *
 * Portions Copyright (c) 1994, The Regents of the University of California
 *
 * Permission to use, copy, modify, and distribute this software and its
 * documentation for any purpose, without fee, and without a written agreement
 * is hereby granted, provided that the above copyright notice and this
 * paragraph and the following two paragraphs appear in all copies.
 *
 * IN NO EVENT SHALL THE UNIVERSITY OF CALIFORNIA BE LIABLE TO ANY PARTY FOR
 * DIRECT, INDIRECT, SPECIAL, INCIDENTAL, OR CONSEQUENTIAL DAMAGES, INCLUDING
 * LOST PROFITS, ARISING OUT OF THE USE OF THIS SOFTWARE AND ITS
 * DOCUMENTATION, EVEN IF THE UNIVERSITY OF CALIFORNIA HAS BEEN ADVISED OF THE
 * POSSIBILITY OF SUCH DAMAGE.
 *
 * THE UNIVERSITY OF CALIFORNIA SPECIFICALLY DISCLAIMS ANY WARRANTIES,
 * INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY
 * AND FITNESS FOR A PARTICULAR PURPOSE.  THE SOFTWARE PROVIDED HEREUNDER IS
 * ON AN "AS IS" BASIS, AND THE UNIVERSITY OF CALIFORNIA HAS NO OBLIGATIONS TO
 * PROVIDE MAINTENANCE, SUPPORT, UPDATES, ENHANCEMENTS, OR MODIFICATIONS.
 */

/** `ABBREVIATION offset-or-zone`, comma separated, in the order of PostgreSQL's file. */
const DEFAULT_SET = `
EAT 10800, SAST 7200, WAT 3600, ACT -18000, AKDT -28800, AKST -32400, ART America/Argentina/Buenos_Aires,
ARST America/Argentina/Buenos_Aires, BOT -14400, BRA -10800, BRST -7200, BRT -10800, COT -18000, CDT -18000,
CLST -10800, CLT America/Santiago, CST -21600, EDT -14400, EGST 0, EGT -3600, EST -18000, FNT -7200, FNST -3600,
GFT -10800, GYT America/Guyana, MDT -21600, MST -25200, NDT -9000, NFT -12600, NST -12600, PET -18000, PDT -25200,
PMDT -7200, PMST -10800, PST -28800, PYST -10800, PYT America/Asuncion, UYST -7200, UYT -10800, VET America/Caracas,
WGST -7200, WGT -10800, DAVT Antarctica/Davis, DDUT 36000, MAWT Antarctica/Mawson, AFT 16200, ALMT 21600, ALMST 25200,
AMST Asia/Yerevan, AMT -14400, ANAST Asia/Anadyr, ANAT Asia/Anadyr, AZST Asia/Baku, AZT Asia/Baku, BDT 21600, BNT 28800,
BORT 28800, BTT 21600, CCT 28800, GEST Asia/Tbilisi, GET Asia/Tbilisi, HKT 28800, ICT 25200, IDT 10800,
IRKST Asia/Irkutsk, IRKT Asia/Irkutsk, IRT 12600, IST 7200, JAYT 32400, JST 32400, KDT 36000, KGST 21600,
KGT Asia/Bishkek, KRAST Asia/Krasnoyarsk, KRAT Asia/Krasnoyarsk, KST 32400, LKT Asia/Colombo, MAGST Asia/Magadan,
MAGT Asia/Magadan, MMT 23400, MYT 28800, NOVST Asia/Novosibirsk, NOVT Asia/Novosibirsk, NPT 20700, OMSST Asia/Omsk,
OMST Asia/Omsk, PETST Asia/Kamchatka, PETT Asia/Kamchatka, PHT 28800, PKT 18000, PKST 21600, SGT Asia/Singapore,
TJT 18000, TMT Asia/Ashgabat, ULAST 32400, ULAT Asia/Ulaanbaatar, UZST 21600, UZT 18000, VLAST Asia/Vladivostok,
VLAT Asia/Vladivostok, XJT 21600, YAKST Asia/Yakutsk, YAKT Asia/Yakutsk, YEKST 21600, YEKT Asia/Yekaterinburg,
ADT -10800, AST -14400, AZOST 0, AZOT -3600, FKST Atlantic/Stanley, FKT Atlantic/Stanley, ACSST 37800, ACDT 37800,
ACST 34200, ACWST 31500, AESST 39600, AEDT 39600, AEST 36000, AWSST 32400, AWST 28800, CADT 37800, CAST 34200,
LHDT Australia/Lord_Howe, LHST 37800, LIGT 36000, NZT 43200, SADT 37800, WADT 28800, WAST 25200, WDT 32400, GMT 0,
UCT 0, UT 0, UTC 0, Z 0, ZULU 0, BST 3600, BDST 7200, CEST 7200, CET 3600, CETDST 7200, EEST 10800, EET 7200,
EETDST 10800, FET 10800, MEST 7200, MESZ 7200, MET 3600, METDST 7200, MEZ 3600, MSD 14400, MSK Europe/Moscow,
VOLT Europe/Volgograd, WET 0, WETDST 3600, CXT 25200, IOT Indian/Chagos, MUT 14400, MUST 18000, MVT 18000, RET 14400,
SCT 14400, TFT 18000, CHADT 49500, CHAST 45900, CHUT 36000, CKT Pacific/Rarotonga, EASST Pacific/Easter,
EAST Pacific/Easter, FJST 46800, FJT 43200, GALT -21600, GAMT -32400, GILT 43200, HST -36000, KOST Pacific/Kosrae,
LINT Pacific/Kiritimati, MART -34200, MHT 43200, MPT 36000, NUT Pacific/Niue, NZDT 46800, NZST 43200, PGT 36000,
PONT 39600, PWT 32400, TAHT -36000, TKT Pacific/Fakaofo, TOT 46800, TRUT 36000, TVT 43200, VUT 39600, WAKT 43200,
WFT 43200, YAPT 36000,
`;

/** Abbreviations that PostgreSQL's regional sets give other meanings. */
const AMBIGUOUS = `
ACST AMST AMT AST BST CCT CDT CST EAST EST GST IST KST NFT PST SAST WAST WST
`;

/** Abbreviation (upper case) → offset from UTC in seconds, or the IANA zone it stands for. */
export const TIME_ZONE_ABBREVIATIONS: ReadonlyMap<string, number | string> = new Map(
  DEFAULT_SET.split(',')
    .map((item) => item.trim().split(' '))
    .filter((pair): pair is [string, string] => pair.length === 2)
    .map(([name, value]) => [name, /^-?\d+$/.test(value) ? Number(value) : value]),
);

/** Abbreviations read differently where another set than PostgreSQL's Default is in use. */
export const AMBIGUOUS_ABBREVIATIONS: ReadonlySet<string> = new Set(AMBIGUOUS.split(/\s+/).filter(Boolean));
