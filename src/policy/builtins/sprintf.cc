// sprintf with the semantics of Go's fmt.Sprintf as OPA calls it: integral numbers are Go
// ints, other numbers float64, strings strings, and every other value its Rego text.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "policy/builtins/utf8.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

// An integer beyond int64, which OPA hands to fmt as a *big.Int.
struct BigArg {
  BigInt value;
};

// One Go argument.
using Arg = std::variant<int64_t, double, std::string, BigArg>;

struct Spec {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  int width = -1, prec = -1;
  char32_t verb = 0;
};

std::string type_label(const Arg& a) {
  switch (a.index()) {
    case 0:
      return "int";
    case 1:
      return "float64";
    case 3:
      return "*big.Int";
    default:
      return "string";
  }
}

void pad(std::string& out, std::string body, const Spec& s, bool numeric) {
  int len = static_cast<int>(utf8_decode(body).size());
  if (s.width <= len) {
    out += body;
    return;
  }
  size_t n = static_cast<size_t>(s.width - len);
  if (s.minus) {
    out += body;
    out.append(n, ' ');
  } else if (s.zero) {
    size_t sign = 0;
    if (numeric && !body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) sign = 1;
    out += body.substr(0, sign);
    out.append(n, '0');
    out += body.substr(sign);
  } else {
    out.append(n, ' ');
    out += body;
  }
}

std::string quote_go(std::string_view s) {
  std::string out = "\"";
  for (char32_t c : utf8_decode(s)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
          out += buf;
        } else if (c == 0xFFFD) {
          out += "\\ufffd";
        } else {
          utf8_append(out, c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string int_digits(uint64_t u, int base, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string d;
  do {
    d.insert(d.begin(), digits[u % static_cast<uint64_t>(base)]);
    u /= static_cast<uint64_t>(base);
  } while (u);
  return d;
}

// Go's shortest %g (precision 6 decides between %e and %f), also used by %v.
std::string shortest_g(double v, bool upper) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  size_t e = sci.find('e');
  int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 6) {
    // Go prints at least two exponent digits, as to_chars does.
    if (upper) sci[e] = 'E';
    return sci;
  }
  r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

void format_int(std::string& out, int64_t i, const Spec& s) {
  bool neg = i < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
  std::string body, prefix;
  switch (s.verb) {
    case 'd':
    case 'v':
      body = int_digits(u, 10, false);
      break;
    case 'b':
      body = int_digits(u, 2, false);
      if (s.sharp) prefix = "0b";
      break;
    case 'o':
      body = int_digits(u, 8, false);
      if (s.sharp && body != "0") prefix = "0";
      break;
    case 'O':
      body = int_digits(u, 8, false);
      prefix = "0o";
      break;
    case 'x':
    case 'X':
      body = int_digits(u, 16, s.verb == 'X');
      if (s.sharp) prefix = s.verb == 'X' ? "0X" : "0x";
      break;
    case 'c': {
      std::string c;
      utf8_append(c, static_cast<char32_t>(i));
      pad(out, c, s, false);
      return;
    }
    case 'q': {
      std::string c = "'";
      utf8_append(c, static_cast<char32_t>(i));
      c += "'";
      pad(out, c, s, false);
      return;
    }
    case 'U': {
      std::string d = int_digits(u, 16, true);
      while (d.size() < 4) d.insert(d.begin(), '0');
      pad(out, "U+" + d, s, false);
      return;
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    default:
      out += "%!";
      utf8_append(out, s.verb);
      out += "(int=" + std::to_string(i) + ")";
      return;
  }
  if (s.prec >= 0) {
    while (static_cast<int>(body.size()) < s.prec) body.insert(body.begin(), '0');
    if (s.prec == 0 && u == 0) body.clear();
  }
  std::string sign = neg ? "-" : (s.plus ? "+" : (s.space ? " " : ""));
  Spec sp = s;
  if (s.prec >= 0) sp.zero = false;
  pad(out, sign + prefix + body, sp, true);
}

void format_float(std::string& out, double d, const Spec& s) {
  std::string body;
  char32_t verb = s.verb == 'v' ? 'g' : s.verb;
  switch (verb) {
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      if (std::isinf(d) || std::isnan(d)) {
        body = std::isnan(d) ? "NaN" : (d > 0 ? "+Inf" : "-Inf");
        if (d > 0 && !s.plus) body = "Inf";
        break;
      }
      if ((verb == 'g' || verb == 'G') && s.prec < 0) {
        body = shortest_g(d, verb == 'G');
      } else {
        char fmt[16];
        std::snprintf(fmt, sizeof fmt, "%%%s.%d%c", s.sharp ? "#" : "", s.prec < 0 ? 6 : s.prec,
                      static_cast<char>(verb));
        int len = std::snprintf(nullptr, 0, fmt, d);
        body.assign(static_cast<size_t>(len > 0 ? len : 0) + 1, '\0');
        std::snprintf(body.data(), body.size(), fmt, d);
        body.pop_back();
      }
      if (!body.empty() && body[0] != '-') {
        if (s.plus)
          body.insert(body.begin(), '+');
        else if (s.space)
          body.insert(body.begin(), ' ');
      }
      break;
    }
    default:
      out += "%!";
      utf8_append(out, s.verb);
      out += "(float64=" + shortest_g(d, false) + ")";
      return;
  }
  pad(out, body, s, true);
}

void format_string(std::string& out, const std::string& str, const Spec& s) {
  std::string body;
  switch (s.verb) {
    case 'v':
    case 's':
      body = str;
      if (s.prec >= 0) {
        std::u32string u = utf8_decode(str);
        if (static_cast<int>(u.size()) > s.prec) body = utf8_encode(u.substr(0, s.prec));
      }
      break;
    case 'q':
      body = quote_go(str);
      break;
    case 'x':
    case 'X':
      for (unsigned char c : str) {
        body += int_digits(c, 16, s.verb == 'X').insert(0, c < 16 ? "0" : "");
      }
      break;
    default:
      out += "%!";
      utf8_append(out, s.verb);
      out += "(string=" + str + ")";
      return;
  }
  pad(out, body, s, false);
}

// big.Int's Format: decimal for d, s and v; hexadecimal for x and X; sign and width as for
// ints. Other verbs print Go's %!verb(big.Int=digits).
void format_big(std::string& out, const BigInt& b, const Spec& s) {
  std::string digits;
  std::string prefix;
  switch (s.verb) {
    case 'd':
    case 's':
    case 'v':
      digits = b.to_string();
      break;
    case 'x':
    case 'X':
      digits = b.to_hex(s.verb == 'X');
      if (s.sharp) prefix = s.verb == 'X' ? "0X" : "0x";
      break;
    default:
      out += "%!";
      utf8_append(out, s.verb);
      out += "(big.Int=" + b.to_string() + ")";
      return;
  }
  std::string sign;
  if (!digits.empty() && digits[0] == '-') {
    sign = "-";
    digits.erase(0, 1);
  } else if (s.plus) {
    sign = "+";
  } else if (s.space) {
    sign = " ";
  }
  pad(out, sign + prefix + digits, s, true);
}

std::string arg_text(const Arg& a) {
  switch (a.index()) {
    case 3:
      return std::get<3>(a).value.to_string();
    case 0:
      return std::to_string(std::get<0>(a));
    case 1:
      return shortest_g(std::get<1>(a), false);
    default:
      return std::get<2>(a);
  }
}

std::string go_sprintf(std::string_view format, const std::vector<Arg>& args) {
  std::string out;
  size_t argi = 0;
  std::u32string f = utf8_decode(format);
  size_t i = 0;
  while (i < f.size()) {
    if (f[i] != '%') {
      utf8_append(out, f[i++]);
      continue;
    }
    ++i;
    Spec s;
    for (; i < f.size(); ++i) {
      char32_t c = f[i];
      if (c == '-')
        s.minus = true, s.zero = false;
      else if (c == '+')
        s.plus = true;
      else if (c == '#')
        s.sharp = true;
      else if (c == ' ')
        s.space = true;
      else if (c == '0')
        s.zero = !s.minus;
      else
        break;
    }
    // Go rejects widths and precisions above 1e6 (%!(BADWIDTH) / %!(BADPREC)).
    constexpr int64_t kMaxNum = 1'000'000;
    auto read_num = [&](int& dst) -> bool {
      if (i < f.size() && f[i] == '*') {
        ++i;
        bool ok = true;
        if (argi < args.size() && args[argi].index() == 0) {
          int64_t v = std::get<0>(args[argi]);
          ok = v <= kMaxNum && v >= -kMaxNum;
          if (ok) dst = static_cast<int>(v);
        }
        ++argi;
        return ok;
      }
      int64_t n = -1;
      bool ok = true;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') {
        n = (n < 0 ? 0 : n * 10) + static_cast<int64_t>(f[i] - '0');
        if (n > kMaxNum) ok = false, n = kMaxNum;
        ++i;
      }
      if (n >= 0 && ok) dst = static_cast<int>(n);
      return ok;
    };
    if (!read_num(s.width)) {
      out += "%!(BADWIDTH)";
      s.width = -1;
    }
    if (s.width < -1) {
      s.minus = true;
      s.width = -s.width;
    }
    if (i < f.size() && f[i] == '.') {
      ++i;
      s.prec = 0;
      if (!read_num(s.prec)) {
        out += "%!(BADPREC)";
        s.prec = -1;
      }
    }
    if (i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    s.verb = f[i++];
    if (s.verb == '%') {
      out.push_back('%');
      continue;
    }
    if (argi >= args.size()) {
      out += "%!";
      utf8_append(out, s.verb);
      out += "(MISSING)";
      continue;
    }
    const Arg& a = args[argi++];
    if (s.verb == 'T') {
      pad(out, type_label(a), s, false);
      continue;
    }
    switch (a.index()) {
      case 0:
        format_int(out, std::get<0>(a), s);
        break;
      case 1:
        format_float(out, std::get<1>(a), s);
        break;
      case 3:
        format_big(out, std::get<3>(a).value, s);
        break;
      default:
        format_string(out, std::get<2>(a), s);
        break;
    }
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      out += type_label(args[k]) + "=" + arg_text(args[k]);
    }
    out += ")";
  }
  return out;
}

BuiltinResult sprintf(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "sprintf";
  EC_ASSIGN_OR_RETURN(std::string_view format, arg_string(kName, args, 1));
  EC_RETURN_IF_ERROR(check_type(kName, args, 2, Type::kArray));
  std::vector<Arg> go_args;
  for (const Value& v : args[1].array_items()) {
    if (const BigInt* big = v.as_big()) {
      go_args.emplace_back(BigArg{*big});
    } else if (v.is_number()) {
      if (auto i = v.as_int()) {
        go_args.emplace_back(*i);
      } else {
        go_args.emplace_back(v.as_double());
      }
    } else if (v.is_string()) {
      go_args.emplace_back(v.as_string());
    } else {
      go_args.emplace_back(v.to_rego());
    }
  }
  return ok(Value::string(go_sprintf(format, go_args)));
}

}  // namespace

void register_sprintf_builtins(BuiltinRegistry& r) { r.add("sprintf", 2, sprintf); }

}  // namespace policy::builtins
