"""Reading layer text without evaluating it: a tokenizer and three small grammars.

Layer text is data, never code: the readers below accept literals (numbers, strings,
lists, the dialect's constants) in the one call shape each dialect uses to build a
convolution layer, and reject everything else with the column where reading stopped.
Nothing here calls `eval`, `exec`, `compile`, `literal_eval` or imports a name from the
text.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from dataclasses import dataclass, field


class LayerSyntaxError(ValueError):
    """Layer text that cannot be read; the message names the column (1-based).

    Parameters
    ----------
    message : str
        What is wrong.
    column : int
        Where, 1-based (also the `column` attribute).

    Examples
    --------
    >>> from xconv.compat.parse import LayerSyntaxError, parse
    >>> try:
    ...     parse("convolution2dLayer(3, 16, 'Stride', )")
    ... except LayerSyntaxError as error:
    ...     print(error.column)
    37
    """

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, punct, end
    text: str
    column: int  # 1-based
    value: object = None


@dataclass(frozen=True)
class LayerCall:
    """One constructor call read from text: `name(*args, **options)`."""

    dialect: str
    name: str
    args: tuple = ()
    options: dict = field(default_factory=dict)


_NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
# each dialect's string literals: Python's (backslash escapes, one line), MATLAB's (a
# quote doubled inside, no escapes) and Wolfram's (backslash escapes)
_STRINGS = {
    "python": r"""(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""",
    "matlab": r"""(?P<string>"(?:[^"\n]|"")*"|'(?:[^'\n]|'')*')""",
    "wolfram": r"""(?P<string>"(?:[^"\\]|\\.)*")""",
}
# digits and letters are ASCII only: a Bengali four or a fullwidth 8 is not a digit here
_TOKENS = {
    quoting: re.compile(
        rf"""
        (?P<space>\s+)
      | (?P<number>{_NUMBER}(?:\*\^[+-]?[0-9]+)?)
      | {strings}
      | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
      | (?P<punct>->|:>|[\[\]{{}}(),;=.@+\-*])
        """,
        re.VERBOSE | re.ASCII,
    )
    for quoting, strings in _STRINGS.items()
}
# longer numbers are refused (Python would read them, slowly, up to 4300 digits)
MAX_DIGITS = 400


def tokenize(text: str, *, quoting: str = "python") -> list[Token]:
    """The tokens of `text`, its strings read by the `quoting` dialect's rules."""
    pattern = _TOKENS[quoting]
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = pattern.match(text, position)
        column = position + 1
        if match is None:
            raise LayerSyntaxError(f"unexpected character {text[position]!r}", column)
        kind, chunk = match.lastgroup, match.group()
        position = match.end()
        if kind == "space":
            continue
        if kind == "number":
            if len(chunk) > MAX_DIGITS:
                raise LayerSyntaxError(f"number of {len(chunk)} characters is too long", column)
            try:
                value = _number(chunk)
            except OverflowError:
                raise LayerSyntaxError(f"number {chunk!r} is out of range", column) from None
            tokens.append(Token("number", chunk, column, value))
        elif kind == "string":
            try:
                value = _unquote(chunk, quoting)
            except UnicodeDecodeError:
                raise LayerSyntaxError(f"string {chunk} has a bad escape", column) from None
            tokens.append(Token("string", chunk, column, value))
        else:
            tokens.append(Token(kind, chunk, column))
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _number(text: str) -> int | float:
    mantissa, _, exponent = text.partition("*^")  # Wolfram writes 1.5*^-3 for 1.5e-3
    if exponent:
        return float(mantissa) * 10.0 ** int(exponent)
    if re.fullmatch(r"[0-9]+", mantissa):
        return int(mantissa)
    return float(mantissa)


def _unquote(text: str, quoting: str) -> str:
    """A string literal's value by its dialect's rules: MATLAB doubles a quote inside;
    Python and Wolfram read backslash escapes (`\\f` is a form feed, not `f`; an unknown
    escape keeps its backslash, as Python does)."""
    quote, body = text[0], text[1:-1]
    if quoting == "matlab":
        return body.replace(quote * 2, quote)
    with warnings.catch_warnings():  # Python warns of unknown escapes, and keeps them
        warnings.simplefilter("ignore", DeprecationWarning)
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")


# brackets nest at most this deep (Python's recursion limit is far away)
MAX_NESTING = 64


class Reader:
    """A cursor over tokens with the checks every grammar needs."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @contextlib.contextmanager
    def nested(self):
        """Inside one more bracket: LayerSyntaxError beyond `MAX_NESTING` levels."""
        if self.depth >= MAX_NESTING:
            self.fail(f"brackets nested more than {MAX_NESTING} deep")
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    @property
    def peek(self) -> Token:
        return self.tokens[self.index]

    def next(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, text: str) -> bool:
        return self.peek.kind in ("punct", "name") and self.peek.text == text

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"expected {text!r}")
        return self.next()

    def fail(self, message: str, token: Token | None = None):
        token = token or self.peek
        found = "the end of the text" if token.kind == "end" else repr(token.text)
        raise LayerSyntaxError(f"{message}, found {found}", token.column)

    def signed_number(self) -> int | float | None:
        """A number with an optional sign, or None if the cursor is not at one."""
        start = self.index
        sign = -1 if self.accept("-") else 1
        if sign == 1:
            self.accept("+")
        if self.peek.kind == "number":
            return sign * self.next().value
        self.index = start
        return None

    def scalar(self, constants: dict, unknown_name: str) -> tuple[bool, object]:
        """A number, string or named constant: `(True, value)`, or `(False, None)` if the
        cursor is at none of them. Any other name fails with `unknown_name`."""
        number = self.signed_number()
        if number is not None:
            return True, number
        token = self.peek
        if token.kind == "string":
            return True, self.next().value
        if token.kind == "name":
            if token.text not in constants:
                self.fail(unknown_name)
            self.next()
            return True, constants[token.text]
        return False, None

    def dotted_name(self) -> tuple[str, Token]:
        first = self.peek
        if first.kind != "name":
            self.fail("expected a layer name")
        parts = [self.next().text]
        while self.accept("."):
            if self.peek.kind != "name":
                self.fail("expected a name after '.'")
            parts.append(self.next().text)
        return ".".join(parts), first

    def finish(self) -> None:
        self.accept(";")
        if self.peek.kind != "end":
            self.fail("expected the end of the layer text")


# -- Wolfram Language --------------------------------------------------------------------

_WOLFRAM_SYMBOLS = {"True": True, "False": False, "None": None, "Automatic": "Automatic"}


def read_wolfram(text: str) -> LayerCall:
    """`ConvolutionLayer[n, s, opt -> value, ...]`: lists in braces, `->` and `:>` rules."""
    reader = Reader(tokenize(text, quoting="wolfram"))
    name, _ = reader.dotted_name()
    reader.expect("[")
    args, options = [], {}
    if not reader.at("]"):
        while True:
            key, value = _wolfram_item(reader)
            if key is None:
                if options:
                    reader.fail("positional arguments must come before options")
                args.append(value)
            else:
                options[key] = value
            if not reader.accept(","):
                break
    reader.expect("]")
    reader.finish()
    return LayerCall("wolfram", name, tuple(args), options)


def _wolfram_item(reader: Reader) -> tuple[str | None, object]:
    token = reader.peek
    is_key = token.kind in ("string", "name") and reader.tokens[reader.index + 1].text in (
        "->",
        ":>",
    )
    if is_key:
        reader.next()
        reader.next()
        return str(token.value if token.kind == "string" else token.text), _wolfram_value(reader)
    return None, _wolfram_value(reader)


def _wolfram_value(reader: Reader) -> object:
    found, value = reader.scalar(
        _WOLFRAM_SYMBOLS,
        "expected a literal value (symbols other than True, False, None and Automatic are "
        "not evaluated)",
    )
    if found:
        return value
    if reader.accept("{"):
        items: list = []
        with reader.nested():
            if not reader.at("}"):
                while True:
                    key, value = _wolfram_item(reader)
                    items.append(value if key is None else (key, value))
                    if not reader.accept(","):
                        break
        reader.expect("}")
        return items
    return reader.fail("expected a number, string, list or symbol")


# -- MATLAB ------------------------------------------------------------------------------

_MATLAB_CONSTANTS = {"true": True, "false": False, "Inf": float("inf"), "inf": float("inf")}


def read_matlab(text: str, positional: int = 2) -> LayerCall:
    """`convolution2dLayer([3 5], 16, 'Stride', 2, Name=Value, ...)`.

    The first `positional` arguments are the constructor's own; the rest are name-value
    pairs, written `'Name', value` or `Name=value` (names as written; the caller folds
    their case).
    """
    reader = Reader(tokenize(text, quoting="matlab"))
    name, _ = reader.dotted_name()
    reader.expect("(")
    values: list[tuple[Token, object]] = []
    options: dict = {}
    if not reader.at(")"):
        while True:
            token = reader.peek
            if token.kind == "name" and reader.tokens[reader.index + 1].text == "=":
                reader.next()
                reader.next()
                options[token.text] = _matlab_value(reader)
            else:
                if options:
                    reader.fail("positional arguments must come before Name=Value options")
                values.append((token, _matlab_value(reader)))
            if not reader.accept(","):
                break
    reader.expect(")")
    reader.finish()
    args = [value for _, value in values[:positional]]
    pairs = values[positional:]
    if len(pairs) % 2:
        reader.fail("name-value arguments must come in pairs", pairs[-1][0])
    for token, key in pairs[::2]:
        if not isinstance(key, str):
            reader.fail("expected an option name in quotes", token)
    named = {key: value for (_, key), (_, value) in zip(pairs[::2], pairs[1::2], strict=True)}
    return LayerCall("matlab", name, tuple(args), {**named, **options})


def _matlab_value(reader: Reader) -> object:
    found, value = reader.scalar(
        _MATLAB_CONSTANTS, "expected a literal value (names and calls are not evaluated)"
    )
    if found:
        return value
    if reader.at("@"):
        reader.fail("function handles cannot be read from text; pass a Python function")
    if reader.accept("["):
        with reader.nested():
            return _matlab_matrix(reader)
    return reader.fail("expected a number, string or [vector]")


def _matlab_matrix(reader: Reader) -> list:
    rows: list[list] = [[]]
    while not reader.at("]"):
        if reader.accept(";"):
            rows.append([])
            continue
        reader.accept(",")
        if reader.at("]"):
            break
        rows[-1].append(_matlab_value(reader))
    reader.expect("]")
    if len(rows) == 1:
        return rows[0]
    if len({len(row) for row in rows}) != 1:
        reader.fail("matrix rows must have the same length")
    return rows


# -- Keras (Python call syntax, literals only) --------------------------------------------

_PYTHON_CONSTANTS = {"True": True, "False": False, "None": None}


def read_keras(text: str) -> LayerCall:
    """`keras.layers.Conv2D(32, 3, strides=(2, 2), activation="relu")`."""
    call = _read_python_call(text, "keras", _python_value)
    return LayerCall("keras", call.name.rsplit(".", 1)[-1], call.args, call.options)


@dataclass(frozen=True)
class Name:
    """A name in PyTorch text (`x`, `w`, `torch.float64`): kept as written, never looked up."""

    text: str


@dataclass(frozen=True)
class Creation:
    """`torch.randn(8, 3, 3, 3)` in PyTorch text: the creator and the sizes, not run."""

    creator: str
    shape: tuple[int, ...]


_TORCH_CREATORS = ("empty", "zeros", "ones", "randn", "rand")


def read_pytorch(text: str) -> LayerCall:
    """`nn.Conv2d(3, 8, 3, stride=2)` or `F.conv2d(x, w, stride=2)`: literals, plus bare or
    dotted names (kept as `Name`) and `torch.empty/zeros/ones/randn/rand(sizes)` (kept as
    `Creation`)."""
    return _read_python_call(text, "pytorch", _pytorch_value)


def _read_python_call(text: str, dialect: str, value) -> LayerCall:
    reader = Reader(tokenize(text))
    name, _ = reader.dotted_name()
    reader.expect("(")
    args: list = []
    options: dict = {}
    while not reader.at(")"):
        token = reader.peek
        if token.kind == "name" and reader.tokens[reader.index + 1].text == "=":
            reader.next()
            reader.next()
            if token.text in options:
                reader.fail(f"keyword argument {token.text!r} repeated", token)
            options[token.text] = value(reader)
        else:
            if options:
                reader.fail("positional argument follows keyword argument")
            args.append(value(reader))
        if not reader.accept(","):
            break
    reader.expect(")")
    reader.finish()
    return LayerCall(dialect, name, tuple(args), options)


def _pytorch_value(reader: Reader) -> object:
    token = reader.peek
    if token.kind != "name" or token.text in _PYTHON_CONSTANTS:
        return _python_value(reader)
    name, first = reader.dotted_name()
    if not reader.accept("("):
        return Name(name)
    creator = name.removeprefix("torch.")
    if name == creator or creator not in _TORCH_CREATORS:
        reader.fail(
            f"calls are not evaluated; only torch.{'/'.join(_TORCH_CREATORS)}(sizes) are read "
            "as a tensor's shape",
            first,
        )
    sizes: list = []
    with reader.nested():
        while not reader.at(")"):
            sizes.append(_python_value(reader))
            if not reader.accept(","):
                break
    reader.expect(")")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in sizes):
        reader.fail(f"{name}: sizes must be non-negative integers", first)
    return Creation(creator, tuple(sizes))


def _python_value(reader: Reader) -> object:
    found, value = reader.scalar(
        _PYTHON_CONSTANTS, "expected a literal value (names and calls are not evaluated)"
    )
    if found:
        return value
    for open_, close, kind in (("(", ")", tuple), ("[", "]", list)):
        if reader.accept(open_):
            items = []
            with reader.nested():
                while not reader.at(close):
                    items.append(_python_value(reader))
                    if not reader.accept(","):
                        break
            reader.expect(close)
            return kind(items)
    return reader.fail("expected a number, string, tuple, list, True, False or None")
