#include "ws/city_wire.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "base/jwt.h"
#include "base/strings.h"
#include "ws/frame.h"

namespace ws::wire {

namespace json = boost::json;

namespace {

json::object envelope(const char* op, std::string_view session) {
  json::object o;
  o["op"] = op;
  o["s"] = session;
  return o;
}

std::string str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

}  // namespace

std::string up_join(std::string_view session, std::string_view conn, std::string_view edge,
                    const classroom::Actor& actor,
                    const std::optional<classroom::ResumePoint>& resume) {
  json::object o = envelope("join", session);
  o["c"] = conn;
  o["e"] = edge;
  json::object u;
  u["id"] = actor.id;
  u["name"] = actor.name;
  u["role"] = base::role_name(actor.role);
  o["u"] = std::move(u);
  if (resume) {
    o["epoch"] = resume->epoch;
    o["last_seq"] = resume->last_seq;
  }
  return json::serialize(o);
}

std::string up_message(std::string_view session, std::string_view conn, std::string_view text) {
  json::object o = envelope("msg", session);
  o["c"] = conn;
  o["t"] = text;
  return json::serialize(o);
}

std::string up_leave(std::string_view session, std::string_view conn) {
  json::object o = envelope("leave", session);
  o["c"] = conn;
  return json::serialize(o);
}

std::string up_alive(std::string_view session, std::string_view edge,
                     const std::vector<std::string>& conns) {
  json::object o = envelope("alive", session);
  o["e"] = edge;
  json::array a;
  for (const auto& c : conns) a.emplace_back(c);
  o["conns"] = std::move(a);
  return json::serialize(o);
}

base::Result<Upstream> parse_upstream(std::string_view payload) {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec || !v.is_object()) return base::invalid_argument("upstream: not a JSON object");
  const json::object& o = v.get_object();
  Upstream u;
  std::string op = str(o, "op");
  u.session = str(o, "s");
  u.conn = str(o, "c");
  u.edge = str(o, "e");
  if (u.session.empty()) return base::invalid_argument("upstream: no session");
  if (op == "join") {
    u.op = UpOp::kJoin;
    auto it = o.find("u");
    if (it == o.end() || !it->value().is_object()) return base::invalid_argument("join: no user");
    const json::object& user = it->value().get_object();
    u.actor.id = str(user, "id");
    u.actor.name = str(user, "name");
    auto role = base::parse_role(str(user, "role"));
    if (!role || u.actor.id.empty() || u.conn.empty() || u.edge.empty()) {
      return base::invalid_argument("join: bad user, connection or edge");
    }
    u.actor.role = *role;
    std::string epoch = str(o, "epoch");
    auto seq = o.find("last_seq");
    if (!epoch.empty() && seq != o.end() && seq->value().is_number()) {
      boost::system::error_code nec;
      uint64_t n = seq->value().to_number<uint64_t>(nec);
      if (!nec) u.resume = classroom::ResumePoint{epoch, n};
    }
  } else if (op == "msg") {
    u.op = UpOp::kMessage;
    auto it = o.find("t");
    if (it == o.end() || !it->value().is_string() || u.conn.empty()) {
      return base::invalid_argument("msg: no text or connection");
    }
    u.text = std::string(it->value().get_string());
  } else if (op == "leave") {
    u.op = UpOp::kLeave;
    if (u.conn.empty()) return base::invalid_argument("leave: no connection");
  } else if (op == "alive") {
    u.op = UpOp::kAlive;
    auto it = o.find("conns");
    if (it == o.end() || !it->value().is_array() || u.edge.empty()) {
      return base::invalid_argument("alive: no connections or edge");
    }
    for (const auto& c : it->value().get_array()) {
      if (c.is_string()) u.conns.emplace_back(c.get_string());
    }
  } else {
    return base::invalid_argument("upstream: unknown op");
  }
  return u;
}

std::string down_event(const classroom::RoomEvent& event) {
  const auto& a = event.audience;
  std::string out;
  out.reserve(8 + a.user.size() + (event.json ? event.json->size() : 0));
  out += "E ";
  out += a.students ? '1' : '0';
  out += a.teachers ? '1' : '0';
  out += ' ';
  out += a.user;
  out += '\n';
  if (event.json) out += *event.json;
  return out;
}

std::string down_welcome(std::string_view conn, std::string_view welcome) {
  std::string out = "W ";
  out += conn;
  out += '\n';
  out += welcome;
  return out;
}

std::string down_reply(std::string_view conn, std::string_view text) {
  std::string out = "R ";
  out += conn;
  out += '\n';
  out += text;
  return out;
}

std::string down_close(std::string_view conn, uint16_t close_code, const base::Status& why) {
  std::string out = "C ";
  out += conn;
  out += ' ';
  out += std::to_string(close_code);
  out += ' ';
  out += std::to_string(int(why.code()));
  out += ' ';
  out += why.reason();
  out += '\n';
  out += why.message();
  return out;
}

std::optional<Downstream> parse_downstream(std::string_view payload) {
  size_t nl = payload.find('\n');
  if (nl == std::string_view::npos || nl < 2 || payload[1] != ' ') return std::nullopt;
  std::string_view head = payload.substr(2, nl - 2);
  Downstream d;
  d.body = payload.substr(nl + 1);
  // Splits the head on single spaces (the user of an event may be empty).
  std::vector<std::string_view> f;
  for (size_t i = 0;;) {
    size_t sp = head.find(' ', i);
    f.push_back(head.substr(i, sp == std::string_view::npos ? sp : sp - i));
    if (sp == std::string_view::npos) break;
    i = sp + 1;
  }
  switch (payload[0]) {
    case 'E':
      if (f.size() != 2 || f[0].size() != 2) return std::nullopt;
      d.kind = DownKind::kEvent;
      d.audience.students = f[0][0] == '1';
      d.audience.teachers = f[0][1] == '1';
      d.audience.user = std::string(f[1]);
      return d;
    case 'W':
    case 'R':
      if (f.size() != 1 || f[0].empty()) return std::nullopt;
      d.kind = payload[0] == 'W' ? DownKind::kWelcome : DownKind::kReply;
      d.conn = std::string(f[0]);
      return d;
    case 'C': {
      if (f.size() != 4 || f[0].empty()) return std::nullopt;
      auto code = base::parse_int(f[1]);
      auto status = base::parse_int(f[2]);
      // The code goes on the wire to browsers as it is: only one a close frame may carry
      // (not 1005/1006, nothing a uint16_t cuts to another number).
      if (!code || *code < 1000 || *code > 4999 || !is_valid_close_code(uint16_t(*code)) ||
          !status || *status <= 0 || *status > int64_t(base::Code::kInternal)) {
        return std::nullopt;
      }
      d.kind = DownKind::kClose;
      d.conn = std::string(f[0]);
      d.close_code = uint16_t(*code);
      d.status = base::Status(base::Code(*status), std::string(d.body), std::string(f[3]));
      return d;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace ws::wire
