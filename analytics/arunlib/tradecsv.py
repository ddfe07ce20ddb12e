"""Import a TraderSync-style trade export (CSV) into demo_trades rows.

Header names are matched case-insensitively, ignoring spaces, '_', '-',
'/', '&', '(' and ')'.  Accepted columns (first alias found wins):

  required
    symbol       Symbol, Ticker
    side         Side, Direction, Action (BUY/LONG/L -> long; SELL/SHORT/SS/S -> short)
    open time    Open Datetime, Open Date Time, Entry Datetime, Open Date (+ Open Time), Entry Date (+ Entry Time)
    entry price  Entry Price, Avg Entry Price, Open Price, Entry
    exit price   Exit Price, Avg Exit Price, Close Price, Exit
    quantity     Qty, Size, Quantity, Shares
  optional
    close time   Close Datetime, Close Date Time, Exit Datetime, Close Date (+ Close Time), Exit Date (+ Exit Time)
                 (defaults to the open time)
    fees         Commission, Commissions, Fees, Comm, Fee (several are summed)
    net P&L      Net P&L, Net PnL, Net Profit, Net Return ($)  (default: gross - fees)
    gross P&L    Gross P&L, Gross PnL, Gross Profit, Return $  (default: side * (exit - entry) * qty)
    status       Status: rows whose status is OPEN are skipped

Numbers may carry '$', ',', '%' or accounting negatives '(12.50)'.  Dates
may be ISO (2023-05-01[ T]09:31[:00]), US (05/01/2023 [09:31[:00]] [AM|PM])
or YYYY/MM/DD.  A bad value fails the whole import with its line number;
nothing is written.
"""

import csv
import datetime as dt
import hashlib
import re

from .cli import UserError

ALIASES = {
    "symbol": ["symbol", "ticker"],
    "side": ["side", "direction", "action"],
    "open_dt": ["opendatetime", "entrydatetime"],
    "open_date": ["opendate", "entrydate", "date"],
    "open_time": ["opentime", "entrytime", "time"],
    "close_dt": ["closedatetime", "exitdatetime"],
    "close_date": ["closedate", "exitdate"],
    "close_time": ["closetime", "exittime"],
    "entry": ["entryprice", "avgentryprice", "openprice", "avgopenprice", "entry"],
    "exit": ["exitprice", "avgexitprice", "closeprice", "avgcloseprice", "exit"],
    "qty": ["qty", "size", "quantity", "shares"],
    "net": ["netpl", "netpnl", "netprofit", "netreturn", "netreturn$"],
    "gross": ["grosspl", "grosspnl", "grossprofit", "return$"],
    "status": ["status"],
}
FEE_COLUMNS = ["commission", "commissions", "fees", "fee", "comm"]

_DT_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%Y-%m-%d", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p", "%m/%d/%Y", "%m/%d/%y %H:%M", "%m/%d/%y", "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M", "%Y/%m/%d",
]


def norm(name):
    return re.sub(r"[\s_\-/&()]+", "", name.strip().lower())


def parse_number(text):
    s = (text or "").strip()
    if not s:
        raise ValueError("empty")
    neg = s.startswith("(") and s.endswith(")")
    s = s.strip("()").replace("$", "").replace(",", "").replace("%", "").strip()
    v = float(s)
    return -v if neg else v


def parse_datetime(text):
    s = " ".join((text or "").strip().split())
    if s.endswith("Z"):
        s = s[:-1]
    s = re.sub(r"\.\d+$", "", s)          # fractional seconds
    for fmt in _DT_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise ValueError("unrecognised date/time %r" % text)


def parse_side(text):
    s = (text or "").strip().lower()
    if s in ("buy", "long", "l", "b", "bot", "bought", "buy to open"):
        return "long"
    if s in ("sell", "short", "s", "ss", "sell short", "sold", "sell to open"):
        return "short"
    raise ValueError("unknown side %r" % text)


def _columns(header):
    idx = {norm(h): i for i, h in reversed(list(enumerate(header)))}
    cols = {}
    for key, names in ALIASES.items():
        for n in names:
            if n in idx:
                cols[key] = idx[n]
                break
    fees = [idx[n] for n in FEE_COLUMNS if n in idx]
    missing = [k for k in ("symbol", "side", "entry", "exit", "qty") if k not in cols]
    if "open_dt" not in cols and "open_date" not in cols:
        missing.append("open datetime")
    if missing:
        raise UserError("csv is missing column(s): %s (header: %s)"
                        % (", ".join(missing), ", ".join(header)))
    return cols, sorted(set(fees))


def _when(row, cols, dt_key, date_key, time_key):
    if dt_key in cols and row[cols[dt_key]].strip():
        return parse_datetime(row[cols[dt_key]])
    if date_key in cols and row[cols[date_key]].strip():
        text = row[cols[date_key]]
        if time_key in cols and row[cols[time_key]].strip():
            text = text.strip() + " " + row[cols[time_key]].strip()
        return parse_datetime(text)
    return None


def read_trades(path, source):
    """Parse ``path``; return a list of demo_trades row dicts (UserError on bad input)."""
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise UserError("cannot read csv %s: %s" % (path, e.strerror or e))
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise UserError("csv %s is empty" % path)
        cols, fee_cols = _columns(header)
        trades = []
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            row = row + [""] * (len(header) - len(row))
            if "status" in cols and row[cols["status"]].strip().lower() == "open":
                continue
            try:
                t = _row(row, cols, fee_cols)
            except ValueError as e:
                raise UserError("csv %s line %d: %s" % (path, line, e))
            key = hashlib.sha1(repr(sorted(t.items())).encode()).hexdigest()[:20]
            t["trade_key"] = key
            t["source"] = source
            trades.append(t)
    return trades


def _row(row, cols, fee_cols):
    def field(key, what, conv):
        try:
            return conv(row[cols[key]])
        except ValueError as e:
            raise ValueError("bad %s %r (%s)" % (what, row[cols[key]], e))

    symbol = row[cols["symbol"]].strip().upper()
    if not symbol:
        raise ValueError("empty symbol")
    side = field("side", "side", parse_side)
    opened = _when(row, cols, "open_dt", "open_date", "open_time")
    if opened is None:
        raise ValueError("missing open date")
    closed = _when(row, cols, "close_dt", "close_date", "close_time") or opened
    entry = field("entry", "entry price", parse_number)
    exit_ = field("exit", "exit price", parse_number)
    qty = abs(field("qty", "quantity", parse_number))
    fees = 0.0
    for i in fee_cols:
        if row[i].strip():
            try:
                fees += abs(parse_number(row[i]))
            except ValueError:
                raise ValueError("bad fee %r" % row[i])
    sign = 1 if side == "long" else -1
    if "gross" in cols and row[cols["gross"]].strip():
        gross = field("gross", "gross P&L", parse_number)
    else:
        gross = sign * (exit_ - entry) * qty
    if "net" in cols and row[cols["net"]].strip():
        net = field("net", "net P&L", parse_number)
    else:
        net = gross - fees
    return {
        "symbol": symbol, "side": side,
        "open_time": opened.strftime("%Y-%m-%d %H:%M:%S"),
        "close_time": closed.strftime("%Y-%m-%d %H:%M:%S"),
        "entry_price": entry, "exit_price": exit_, "qty": qty,
        "fees": round(fees, 6), "gross_pnl": round(gross, 6), "net_pnl": round(net, 6),
        "alert_id": None,
    }
