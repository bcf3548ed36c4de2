const conversationId = "0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8";

const response = await fetch(
  `https://api-prod.usefini.com/v2/hc-interactions/${conversationId}/public`,
  {
    headers: {
      Authorization: "Bearer fini_your_api_key",
    },
  }
);
const result = await response.json();
