"""Built-in plugins of sitegen: tags, feeds, sitemap, gradcheck."""
