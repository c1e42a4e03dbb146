// Command floor is the load benchmark's reference point: an HTTP server on
// the same transport as gyre serve (fasthttp) that reads each request body
// and answers with a fixed MLflow response, doing no other work. Run under
// the same wrk load in the same run as gyre serve (bench/serve/run.sh), its
// latency is the floor this machine puts under any server: what remains
// when the model, the decoding and the response building cost nothing.
//
//	go run ./bench/serve/floor -addr 127.0.0.1:18083
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18083", "listen address")
	flag.Parse()
	resp := []byte(`{"predictions":["\u003c=50K"]}` + "\n")
	s := &fasthttp.Server{
		Name: "floor",
		Handler: func(ctx *fasthttp.RequestCtx) {
			_ = ctx.PostBody()
			ctx.SetContentType("application/json")
			ctx.SetBody(resp)
		},
	}
	if err := s.ListenAndServe(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
