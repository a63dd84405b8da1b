// Plugin: the end of the chain. Whatever no earlier plugin answered gets a 404.
pipy()

.pipeline()
  .replaceMessage(
    new Message({ status: 404 }, 'No handler')
  )
