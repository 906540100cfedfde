#include "city/directory.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/log.h"
#include "city/city.h"

namespace city {

namespace asio = boost::asio;

namespace {

// One round trip: the home entry and the home replica's URL ('' when it is not alive).
constexpr Script kLookupScript{R"lua(
local h = redis.call('GET', 'ec:home:' .. ARGV[1])
if not h then return false end
local sp = string.find(h, ' ', 1, true)
if not sp then return false end
local url = redis.call('GET', 'ec:replica:' .. string.sub(h, sp + 1))
return {h, url or ''}
)lua"};

// Deletes a home entry only while it still says what we wrote (a code another home took
// since is left alone).
constexpr Script kDeleteIfScript{R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua"};

// Live members: ids heartbeating within ARGV[1] ms of ARGV[2] (now), each with its URL.
constexpr Script kMembersScript{R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2] - ARGV[1], '+inf')
local out = {}
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('GET', 'ec:replica:' .. id) or ''
end
return out
)lua"};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr size_t kBatch = 500;  // entries per MSET while re-registering

}  // namespace

Directory::Directory(City& city, std::function<std::vector<Owned>()> all_owned)
    : city_(city),
      all_owned_(std::move(all_owned)),
      replica_(city.options().replica_id),
      url_(city.options().advertise_url) {}

void Directory::start() {
  timer_ = std::make_unique<asio::steady_timer>(city_.context());
  city_.on_connected([this] { heartbeat(); });
  asio::post(city_.context(), [this] {
    std::vector<Owned> all = all_owned_();
    {
      std::unique_lock lock(mu_);
      for (Owned& o : all) {
        if (o.id.starts_with("code:")) codes_[o.course_id] = o.id.substr(5);
        owned_[o.id] = o.course_id;
      }
    }
    base::log::info("city.directory_loaded").kv("owned", uint64_t(all.size()));
    heartbeat();
  });
}

std::optional<std::string> Directory::owner(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = owned_.find(std::string(id));
  if (it == owned_.end()) return std::nullopt;
  return it->second;
}

void Directory::register_owned(Owned o, std::function<void()> done) {
  {
    std::unique_lock lock(mu_);
    owned_[o.id] = o.course_id;
  }
  city_.commands().command({"SET", home_key(o.id), o.course_id + " " + replica_},
                           [done = std::move(done)](base::Result<Reply>) {
                             if (done) done();
                           });
}

void Directory::set_code(const std::string& course, const std::string& code,
                         std::function<void()> done) {
  std::string old;
  {
    std::unique_lock lock(mu_);
    auto it = codes_.find(course);
    bool unchanged =
        (it != codes_.end() && it->second == code) || (it == codes_.end() && code.empty());
    if (unchanged) {
      lock.unlock();
      if (done) done();
      return;
    }
    if (it != codes_.end()) {
      old = it->second;
      owned_.erase(code_id(old));
    }
    if (code.empty()) {
      codes_.erase(course);
    } else {
      codes_[course] = code;
      owned_[code_id(code)] = course;
    }
  }
  std::string value = course + " " + replica_;
  if (!code.empty()) {
    city_.commands().command({"SET", home_key(code_id(code)), value}, [](base::Result<Reply>) {});
  }
  // After the SET on the same connection: its answer means both are done.
  auto then = [done = std::move(done)](base::Result<Reply>) {
    if (done) done();
  };
  if (old.empty()) {
    city_.commands().command({"PING"}, std::move(then));
  } else {
    city_.commands().eval(kDeleteIfScript, {"1", home_key(code_id(old)), value}, std::move(then));
  }
}

void Directory::members(std::chrono::milliseconds within,
                        std::function<void(base::Result<std::vector<Member>>)> done) {
  int64_t now = now_ms();
  city_.commands().eval(
      kMembersScript,
      {"1", kReplicasKey, std::to_string(within.count()), std::to_string(now),
       std::to_string(
           now - std::chrono::duration_cast<std::chrono::milliseconds>(kMemberForget).count())},
      [done = std::move(done)](base::Result<Reply> r) {
        if (!r.is_ok()) return done(r.status());
        if (auto s = reply_status(*r); !s.is_ok()) return done(s);
        std::vector<Member> out;
        for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
          out.push_back({r->elements[i].str, r->elements[i + 1].str});
        }
        done(std::move(out));
      });
}

std::optional<Home> Directory::cached_home(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto k = known_.find(std::string(id));
  if (k == known_.end()) return std::nullopt;
  auto u = urls_.find(k->second.replica_id);
  if (u == urls_.end() || std::chrono::steady_clock::now() - u->second.seen > kUrlFresh) {
    return std::nullopt;
  }
  return Home{k->second.course_id, k->second.replica_id, u->second.url};
}

void Directory::lookup(std::string id, std::function<void(base::Result<Home>)> done) {
  city_.commands().eval(
      kLookupScript, {"0", id}, [this, id, done = std::move(done)](base::Result<Reply> r) {
        if (!r.is_ok()) return done(r.status());
        if (auto s = reply_status(*r); !s.is_ok()) return done(s);
        if (r->type != Reply::Type::kArray || r->elements.size() != 2) {
          if (rebuilding()) {
            // Redis lost the directory a moment ago: the home may not have written its
            // entries again yet. "Not found" now would be final for a client (404, close
            // 4004); "try again" is true.
            return done(base::unavailable(
                "the city's directory is being rebuilt (Redis came back empty); try again "
                "shortly",
                "city_unavailable"));
          }
          return done(base::not_found("no replica is the home of " + id, "unknown_entity"));
        }
        const std::string& h = r->elements[0].str;
        size_t sp = h.find(' ');
        Home home{h.substr(0, sp), h.substr(sp + 1), r->elements[1].str};
        {
          std::unique_lock lock(mu_);
          if (known_.size() >= kKnownMax) known_.clear();
          known_[id] = Known{home.course_id, home.replica_id};
          urls_[home.replica_id] = Url{home.url, std::chrono::steady_clock::now()};
        }
        done(std::move(home));
      });
}

void Directory::schedule_heartbeat() {
  timer_->expires_after(kHeartbeat);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) heartbeat();
  });
}

void Directory::goodbye() {
  stopped_ = true;
  if (timer_) timer_->cancel();
  if (!city_.commands().connected()) return;
  // Only our own key: a replica started since under the same id keeps its entry.
  city_.commands().eval(kDeleteIfScript, {"1", replica_key(replica_), url_},
                        [](base::Result<Reply>) {});
  // It stays a member (ec:replicas): it may come back, and until then a city-wide list says
  // its courses are missing (X-Edgeclass-Partial) rather than leave them out silently.
  base::log::info("city.goodbye").kv("replica", replica_);
}

// On the city thread: renew our replica key; if it was gone, write everything we own again.
void Directory::heartbeat() {
  if (stopped_) return;
  timer_->cancel();
  schedule_heartbeat();
  if (!city_.commands().connected()) return;
  city_.commands().command({"ZADD", kReplicasKey, std::to_string(now_ms()), replica_},
                           [](base::Result<Reply>) {});
  city_.commands().command(
      {"SET", replica_key(replica_), url_, "EX", std::to_string(kReplicaTtl.count()), "GET"},
      [this](base::Result<Reply> r) {
        if (!r.is_ok() || r->is_error()) return;  // next heartbeat
        if (r->is_nil() && registrations_.load() > 0) {
          // Our key was there and is gone: Redis lost its data (or we were away longer than
          // the TTL). Every replica writes its entries again within a heartbeat of noticing.
          rebuilding_until_ns_.store(
              std::chrono::steady_clock::now().time_since_epoch().count() +
              std::chrono::duration_cast<std::chrono::steady_clock::duration>(kRebuildGrace)
                  .count());
          base::log::warn("city.directory_lost")
              .kv("replica", replica_)
              .kv("note", "Redis came back without this replica's entries; writing them again");
        }
        if (r->is_nil() || r->str != url_) register_all();
      });
}

void Directory::register_all() {
  if (registering_) return;
  registering_ = true;
  std::vector<std::pair<std::string, std::string>> entries;
  {
    std::shared_lock lock(mu_);
    entries.reserve(owned_.size());
    for (const auto& [id, course] : owned_) entries.emplace_back(id, course);
  }
  auto remaining = std::make_shared<size_t>(0);
  auto failed = std::make_shared<bool>(false);
  size_t n = entries.size();
  auto finish = [this, n, failed] {
    registering_ = false;
    if (*failed) {
      // Make the next heartbeat try again: drop our key so its GET returns nil.
      city_.commands().command({"DEL", replica_key(replica_)}, [](base::Result<Reply>) {});
      return;
    }
    registered_.store(n);
    registrations_++;
    base::log::info("city.registered").kv("replica", replica_).kv("entries", uint64_t(n));
    if (on_registered_) on_registered_();
  };
  if (entries.empty()) return finish();
  for (size_t i = 0; i < entries.size(); i += kBatch) {
    std::vector<std::string> args{"MSET"};
    for (size_t j = i; j < std::min(entries.size(), i + kBatch); ++j) {
      args.push_back(home_key(entries[j].first));
      args.push_back(entries[j].second + " " + replica_);
    }
    ++*remaining;
    city_.commands().command(std::move(args), [remaining, failed, finish](base::Result<Reply> r) {
      if (!r.is_ok() || r->is_error()) *failed = true;
      if (--*remaining == 0) finish();
    });
  }
}

}  // namespace city
