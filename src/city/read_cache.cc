#include "city/read_cache.h"

namespace city {

namespace {

constexpr Script kGetScript{R"lua(
local v = redis.call('GET', KEYS[1]) or '0'
return {v, redis.call('GET', 'ec:view:' .. ARGV[1] .. ':' .. v .. ':' .. ARGV[2])}
)lua"};

// The new version, and a message to every replica's near cache (CityFront).
constexpr Script kInvalidateScript{R"lua(
local v = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', 'ec:invalidate', ARGV[1])
return v
)lua"};

}  // namespace

void ReadCache::get(const std::string& course, const std::string& key,
                    std::function<void(base::Result<CacheRead>)> done) {
  commands_.eval(kGetScript, {"1", "ec:ver:" + course, course, key},
                 [done = std::move(done)](base::Result<Reply> r) {
                   if (!r.is_ok()) return done(r.status());
                   if (auto s = reply_status(*r); !s.is_ok()) return done(s);
                   CacheRead out;
                   if (r->type == Reply::Type::kArray && !r->elements.empty()) {
                     out.version = r->elements[0].str;
                     if (r->elements.size() > 1 && !r->elements[1].is_nil()) {
                       out.answer = r->elements[1].str;
                     }
                   }
                   done(std::move(out));
                 });
}

void ReadCache::put(const std::string& course, const std::string& version, const std::string& key,
                    std::string answer) {
  commands_.command({"SET", "ec:view:" + course + ":" + version + ":" + key, std::move(answer),
                     "EX", std::to_string(kTtl.count())},
                    [](base::Result<Reply>) {});
}

void ReadCache::invalidate(const std::string& course, std::function<void(base::Status)> done) {
  commands_.eval(kInvalidateScript, {"1", "ec:ver:" + course, course},
                 [done = std::move(done)](base::Result<Reply> r) {
                   if (!done) return;
                   if (!r.is_ok()) return done(r.status());
                   done(reply_status(*r));
                 });
}

}  // namespace city
