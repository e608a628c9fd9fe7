"""Seeded, realistic bank statement files for the parser benchmark: MT940 and camt.053.

Real files differ from one statement repeated: every day is a new statement whose opening
balance is the previous closing balance, dates advance, amounts, references and
counterparties vary, and the ``:86:`` details come in the shapes banks write (Dutch
``/TRTP/.../NAME/.../REMI/`` keywords, German ``?20``-``?33`` SEPA subfields, free text),
wrapped at 65 characters per line. camt entries carry what real ones do: references,
bank transaction codes, related parties with IBANs and BICs, remittance information,
pretty-printed like the banks' own exports. The files parse without a single problem, so
the benchmark measures the normal path.

    >>> text = mt940_text(2_000, seed=3)
    >>> text.startswith(":20:") and text.endswith("-\\n")
    True
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

ACCOUNT = "NL91ABNA0417164300"
NAMES = ("ACME BV", "Müller & Söhne GmbH", "QINGDAO HAIER SMART HOME CO LTD", "J. DE VRIES",
         "Stadtwerke München GmbH", "LUXSHARE PRECISION INDUSTRY", "Bäckerei Schmidt",
         "Shenzhen Mindray Bio-Medical Electronics", "ING Verzekeringen NV", "Jan Jansen")
WORDS = ("Invoice", "Rechnung", "INV", "Order", "Payment", "Miete", "Termijn", "Contract",
         "Abschlag", "Refund", "Subscription", "Salaris")
START = date(2026, 1, 2)


def _iban(rng: random.Random) -> str:
    return f"{rng.choice(('NL', 'DE', 'BE', 'FR'))}{rng.randint(10, 99)}" + "".join(
        rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(14, 20)))


def _wrap(text: str, width: int = 65) -> str:
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def _remittance(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)} {rng.randint(10000, 99999999)} {rng.choice(WORDS).lower()} " \
           f"{rng.randint(1, 12):02d}/{rng.randint(2025, 2026)}"


def _details(rng: random.Random, credit: bool) -> str:
    name, iban, remi = rng.choice(NAMES), _iban(rng), _remittance(rng)
    shape = rng.random()
    if shape < 0.45:
        return _wrap(f"/TRTP/SEPA OVERBOEKING/IBAN/{iban}/BIC/ABNANL2A/NAME/{name}/REMI/{remi}"
                     f"/EREF/E2E{rng.randint(10**8, 10**9)}")
    if shape < 0.8:
        code = "166?00GUTSCHRIFT" if credit else "177?00UEBERWEISUNG"
        svwz = f"SVWZ+{remi}"
        sub = "".join(f"?2{i}{svwz[j:j + 27]}" for i, j in enumerate(range(0, len(svwz), 27)))
        return _wrap(f"{code}?20EREF+E2E{rng.randint(10**6, 10**7)}{sub}?30GENODEF1M04"
                     f"?31{iban}?32{name[:27]}?33{name[27:54]}")
    return f"{rng.choice(('BEA', 'GEA', 'SEPA INCASSO'))} {remi}\n{name}"


def mt940_text(size: int, *, seed: int = 1) -> str:
    """Daily statements of one account, chained, until the text is at least ``size`` chars."""
    rng = random.Random(seed)
    parts: list[str] = []
    length, day, balance, number = 0, START, Decimal("25000.00"), 1
    while length < size:
        lines, opening = [], balance
        for _ in range(rng.randint(1, 30)):
            credit = rng.random() < 0.4
            amount = Decimal(rng.randint(100, 2_500_000)).scaleb(-2)
            balance += amount if credit else -amount
            entry = day + timedelta(days=rng.choice((0, 0, 0, 1)))
            customer = rng.choice(("NONREF", f"PO{rng.randint(10**5, 10**6)}"))
            bank = f"//{rng.randint(10**9, 10**10)}" if rng.random() < 0.7 else ""
            lines.append(f":61:{day:%y%m%d}{entry:%m%d}{'C' if credit else 'D'}"
                         f"{str(amount).replace('.', ',')}N{rng.choice(('TRF', 'DDT', 'CHG', 'MSC'))}"
                         f"{customer}{bank}\n:86:{_details(rng, credit)}\n")
        sign = lambda money: ("C" if money >= 0 else "D") + str(abs(money)).replace(".", ",")  # noqa: E731
        text = (f":20:STMT{day:%Y%m%d}\n:25:{ACCOUNT}\n:28C:{number:05d}/1\n"
                f":60F:{sign(opening)[0]}{day:%y%m%d}EUR{sign(opening)[1:]}\n" + "".join(lines)
                + f":62F:{sign(balance)[0]}{day:%y%m%d}EUR{sign(balance)[1:]}\n"
                f":64:{sign(balance)[0]}{day:%y%m%d}EUR{sign(balance)[1:]}\n-\n")
        parts.append(text)
        length += len(text)
        day += timedelta(days=1)
        number += 1
    return "".join(parts)


def _camt_entry(rng: random.Random, day: date, index: int) -> tuple[str, Decimal]:
    credit = rng.random() < 0.4
    amount = Decimal(rng.randint(100, 2_500_000)).scaleb(-2)
    party, other = ("Dbtr", "Cdtr") if credit else ("Cdtr", "Dbtr")
    reference = f"{day:%Y%m%d}{index:06d}"
    xml = f"""      <Ntry>
        <NtryRef>{index}</NtryRef>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt>
          <Dt>{day.isoformat()}</Dt>
        </BookgDt>
        <ValDt>
          <Dt>{(day + timedelta(days=rng.choice((0, 0, 1)))).isoformat()}</Dt>
        </ValDt>
        <AcctSvcrRef>{reference}</AcctSvcrRef>
        <BkTxCd>
          <Domn>
            <Cd>PMNT</Cd>
            <Fmly>
              <Cd>{'RCDT' if credit else 'ICDT'}</Cd>
              <SubFmlyCd>ESCT</SubFmlyCd>
            </Fmly>
          </Domn>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs>
              <AcctSvcrRef>{reference}</AcctSvcrRef>
              <EndToEndId>E2E{rng.randint(10**8, 10**9)}</EndToEndId>
            </Refs>
            <RltdPties>
              <{party}>
                <Nm>{rng.choice(NAMES).replace('&', '&amp;')}</Nm>
              </{party}>
              <{party}Acct>
                <Id>
                  <IBAN>{_iban(rng)}</IBAN>
                </Id>
              </{party}Acct>
              <{other}>
                <Nm>YECAI DEMO BV</Nm>
              </{other}>
            </RltdPties>
            <RltdAgts>
              <{party}Agt>
                <FinInstnId>
                  <BIC>COBADEFFXXX</BIC>
                </FinInstnId>
              </{party}Agt>
            </RltdAgts>
            <RmtInf>
              <Ustrd>{_remittance(rng)}</Ustrd>
            </RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
"""
    return xml, amount if credit else -amount


def _balance(code: str, amount: Decimal, day: date) -> str:
    return f"""      <Bal>
        <Tp>
          <CdOrPrtry>
            <Cd>{code}</Cd>
          </CdOrPrtry>
        </Tp>
        <Amt Ccy="EUR">{abs(amount)}</Amt>
        <CdtDbtInd>{'CRDT' if amount >= 0 else 'DBIT'}</CdtDbtInd>
        <Dt>
          <Dt>{day.isoformat()}</Dt>
        </Dt>
      </Bal>
"""


def camt053_text(size: int, *, seed: int = 1, entries_per_statement: int = 500) -> str:
    """A camt.053.001.02 document of daily statements, chained, of at least ``size`` chars."""
    rng = random.Random(seed)
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:'
            'tech:xsd:camt.053.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            "  <BkToCstmrStmt>\n    <GrpHdr>\n      <MsgId>YECAI-BENCH</MsgId>\n"
            "      <CreDtTm>2026-12-31T23:00:00</CreDtTm>\n    </GrpHdr>\n")
    parts, length = [head], len(head)
    day, balance, index = START, Decimal("25000.00"), 0
    while length < size:
        entries, opening = [], balance
        for _ in range(entries_per_statement):
            index += 1
            xml, amount = _camt_entry(rng, day, index)
            entries.append(xml)
            balance += amount
        text = (f"    <Stmt>\n      <Id>STMT-{day:%Y%m%d}</Id>\n      <CreDtTm>{day.isoformat()}"
                f"T23:00:00</CreDtTm>\n      <Acct>\n        <Id>\n          <IBAN>{ACCOUNT}</IBAN>\n"
                f"        </Id>\n      </Acct>\n" + _balance("OPBD", opening, day)
                + _balance("CLBD", balance, day) + "".join(entries) + "    </Stmt>\n")
        parts.append(text)
        length += len(text)
        day += timedelta(days=1)
    parts.append("  </BkToCstmrStmt>\n</Document>\n")
    return "".join(parts)
