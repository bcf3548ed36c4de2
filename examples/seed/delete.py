import requests

conversation_id = "0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8"
response = requests.delete(
    f"https://api-prod.usefini.com/v2/hc-interactions/{conversation_id}/public",
    headers={"Authorization": "Bearer fini_your_api_key"},
)
result = response.json()
