curl --request GET \
  --url 'https://api-prod.usefini.com/v2/hc-interactions/public?limit=20&source=widget,api' \
  --header 'Authorization: Bearer fini_your_api_key'
