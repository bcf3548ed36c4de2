curl --request DELETE \
  --url 'https://api-prod.usefini.com/v2/hc-interactions/public' \
  --header 'Authorization: Bearer fini_your_api_key' \
  --header 'Content-Type: application/json' \
  --data '{"ids": ["0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8"]}'
