"""What every chat adapter shares, so that each platform folder keeps only what is its own.

  markup        the core's markup (mentions, bold) and how renderers read it; titles, cuts
  inbound       typed text with plain `@name`s (DingTalk, WeCom) -> an Invocation
  notices       what an adapter says on its own, in the person's language (catalogs: adapters.toml)
  http_json     blocking JSON over HTTP for the DingTalk and WeCom APIs
  platform_api  a cached app access token; webhook posts only to the platform's hosts
  robots        a team's group robot and how a sender finds it
  delivery      outbox senders: destination, rendering, HTTP/errcode answers -> SendResult
"""
