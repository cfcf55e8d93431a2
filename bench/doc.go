// Package bench holds jwtguard's side-by-side benchmarks: the same
// authenticated GET through a gin.Engine behind no guard, appleboy/gin-jwt,
// two hand-written golang-jwt guards (with and without a Redis GET per
// request) and jwtguard's guard in its configurations, plus login and refresh
// throughput, Redis bytes per session and revocation propagation between two
// app instances. Everything runs against a real Redis at REDIS_ADDR (default
// 127.0.0.1:6379); see run.sh.
//
// It is a module of its own so that the comparison's dependencies never
// enter the library's go.mod.
package bench
