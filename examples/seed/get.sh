curl --request GET \
  --url 'https://api-prod.usefini.com/v2/hc-interactions/0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8/public' \
  --header 'Authorization: Bearer fini_your_api_key'
