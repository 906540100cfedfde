// app::CityLive — ws::CityLink on city::City: how one live class spans the replicas of a
// city (docs/design.md, "One live class across replicas").
//
// In Redis:
//   ec:liveup:<replica id>   pub/sub: what edges send a home (joins, client messages, leaves,
//                            liveness), one channel per home replica, which it subscribes
//                            to at start (start()).
//   ec:live:<session>, ec:livelog:<session>   the session's channel: city::EventBus (one
//                            ordered channel per session with the capped stream of 4,096).
//   ec:presence:<session>    hash: user id -> {"name","role","since"} of everyone in the
//                            room city-wide, written by the home (expires 6 h after the last
//                            change).
#pragma once

#include <functional>
#include <string>

#include "city/city.h"
#include "ws/city_link.h"

namespace app {

class CityLive : public ws::CityLink {
 public:
  // `city` has its directory enabled and outlives this object.
  explicit CityLive(city::City& city);

  // Subscribes to this replica's upstream channel; each message goes to `on_upstream` (on
  // the city thread). Before city.start().
  void start(std::function<void(std::string_view)> on_upstream);

  static std::string upstream_channel(std::string_view replica) {
    return "ec:liveup:" + std::string(replica);
  }
  static std::string presence_key(std::string_view session) {
    return "ec:presence:" + std::string(session);
  }

  // ws::CityLink
  const std::string& replica_id() const override { return city_.options().replica_id; }
  bool connected() const override { return city_.connected(); }
  uint64_t link_epoch() const override { return city_.link_epoch(); }
  bool is_home(std::string_view session_id) const override;
  void publish(const std::string& session_id, std::string payload) override;
  void presence(const std::string& session_id, const std::string& user_id,
                std::string entry) override;
  void presence_reset(const std::string& session_id,
                      std::vector<std::pair<std::string, std::string>> entries) override;
  void find_home(std::string session_id, boost::asio::any_io_executor ex,
                 std::function<void(base::Result<std::string>)> done) override;
  void send_to_home(const std::string& home, std::string payload, boost::asio::any_io_executor ex,
                    std::function<void(bool)> done) override;
  std::unique_ptr<Subscription> subscribe(const std::string& session_id,
                                          boost::asio::any_io_executor ex,
                                          std::function<void(std::string_view)> on_payload,
                                          std::function<void(bool)> on_ready,
                                          std::function<void()> on_gap) override;

 private:
  city::City& city_;
};

}  // namespace app
