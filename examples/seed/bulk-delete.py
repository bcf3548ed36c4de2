import requests

response = requests.delete(
    "https://api-prod.usefini.com/v2/hc-interactions/public",
    headers={"Authorization": "Bearer fini_your_api_key"},
    json={"ids": ["0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8"]},
)
result = response.json()
